"""The one function through which orders and their parts change status."""
from __future__ import annotations

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import OrderStatus

S = OrderStatus

# Which moves are legal. A late payment may still turn an expired order into a paid one (the
# goods are re-reserved), or into a refunded one when they are gone.
TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED, S.EXPIRED},
    S.EXPIRED: {S.PAID, S.REFUNDED},
    S.PAID: {S.READY_FOR_PICKUP, S.COLLECTED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.NO_SHOW},
    S.READY_FOR_PICKUP: {S.COLLECTED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.NO_SHOW},
    S.COLLECTED: {S.REFUNDED, S.PARTIALLY_REFUNDED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED, S.READY_FOR_PICKUP, S.COLLECTED,
                           S.NO_SHOW},
    # Parts only: the goods were kept aside (seller's setting) and the shopper came late, or
    # the seller refunds them.
    S.NO_SHOW: {S.COLLECTED, S.REFUNDED, S.PARTIALLY_REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}

# A part whose money can still (partly) go back to the shopper.
REFUNDABLE = frozenset({S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED, S.NO_SHOW})


class IllegalTransition(DomainError):
    status_code = 409


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    return new in TRANSITIONS[OrderStatus(current)]


def transition(record, new: OrderStatus) -> None:
    """Move an Order or an OrderPart to `new`, or raise IllegalTransition."""
    new = OrderStatus(new)
    if not can_transition(record.status, new):
        raise IllegalTransition(
            _l("This order cannot go from %(current)s to %(new)s.",
               current=record.status.value, new=new.value)
        )
    record.status = new
