"""The shopper's withdrawal right (droit de rétractation) on collected goods.

An order paid online and collected in a shop is a distance sale: the shopper may withdraw
within 14 days from the day after collection, and is refunded by the same means of payment
(ours is immediate, through the payment page's refund_part: orders.payment_methods).
Perishable goods are excluded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from marketplace import audit
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import format_day
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.orders.payment_methods import page as payment_page
from marketplace.pickup.services import local_zone
from marketplace.urls import external_url

WITHDRAWAL_DAYS = 14
# A part can be withdrawn from once collected, until everything in it is refunded.
WITHDRAWABLE_STATUSES = (OrderStatus.COLLECTED, OrderStatus.PARTIALLY_REFUNDED)
REFUND_REASON = "withdrawal"


class WithdrawalError(DomainError):
    status_code = 409


# --- the period ------------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 19 * m + 433) // 432
    month = (h + m - 7 * n + 90) // 25
    return date(year, month, (h + m - 7 * n + 33 * month + 19) % 32)


def french_public_holidays(year: int) -> set[date]:
    easter = _easter(year)
    return {
        date(year, 1, 1), easter + timedelta(days=1), date(year, 5, 1), date(year, 5, 8),
        easter + timedelta(days=39), easter + timedelta(days=50), date(year, 7, 14),
        date(year, 8, 15), date(year, 11, 1), date(year, 11, 11), date(year, 12, 25),
    }


def withdrawal_deadline(collected_at: datetime) -> date:
    """The last local day on which the shopper may still withdraw.

    The 14 days start the day after collection; a period ending on a Saturday, a Sunday or a
    public holiday runs to the next working day (Code de la consommation, art. L221-19).
    """
    day = collected_at.astimezone(local_zone()).date() + timedelta(days=WITHDRAWAL_DAYS)
    while day.weekday() >= 5 or day in french_public_holidays(day.year):
        day += timedelta(days=1)
    return day


# --- what can be withdrawn -------------------------------------------------------------------


@dataclass
class WithdrawableLine:
    """One line of an order, as the withdrawal form sees it."""

    line: OrderLine
    deadline: date | None  # None until the part is collected
    problem: str | None  # why it cannot be returned now; None when it can

    @property
    def part(self) -> OrderPart:
        return self.line.part

    @property
    def remaining(self) -> int:
        return self.line.quantity - self.line.refunded_quantity

    @property
    def eligible(self) -> bool:
        return self.problem is None


def _problem(line: OrderLine, deadline: date | None, today: date):
    part = line.part
    if part.collected_at is None:
        return _l("“%(title)s” has not been collected yet: the withdrawal period starts the "
                  "day after collection.", title=line.title)
    if line.is_perishable:
        return _l("“%(title)s” is perishable: the withdrawal right does not apply to it.",
                  title=line.title)
    if line.quantity - line.refunded_quantity <= 0 or part.status not in WITHDRAWABLE_STATUSES:
        return _l("“%(title)s” was already refunded.", title=line.title)
    if today > deadline:
        return _l("The withdrawal period for “%(title)s” ended on %(date)s.",
                  title=line.title, date=format_day(deadline, "long"))
    return None


def withdrawable_lines(order: Order, *, now: datetime | None = None) -> list[WithdrawableLine]:
    """Every line of the order with its deadline and, when it cannot be returned, why."""
    today = (now or utcnow()).astimezone(local_zone()).date()
    result = []
    for part in order.parts:
        if part.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.CANCELLED):
            continue  # never paid: nothing to withdraw from, nothing to show
        deadline = withdrawal_deadline(part.collected_at) if part.collected_at else None
        for line in part.lines:
            result.append(WithdrawableLine(line, deadline, _problem(line, deadline, today)))
    return result


# --- the request -----------------------------------------------------------------------------


def request_withdrawal(
    order: Order,
    *,
    lines: dict[int, int],
    reason: str,
    by_user=None,
    now: datetime | None = None,
) -> list:
    """Withdraw from `lines` (OrderLine id -> quantity) and refund them at once.

    Everything asked is checked before any money moves, so a refusal changes nothing. Each
    seller concerned gets one refund (the payment page's refund_part, whose intent and gateway answer
    are named durable steps) and an email; the shopper gets one email. Returns the refunds
    made; the unit of work commits the history entries and the emails.
    """
    wanted = {int(line_id): int(quantity) for line_id, quantity in lines.items() if quantity}
    if not wanted:
        raise WithdrawalError(_l("Choose at least one item to return."), status_code=400)
    known = {view.line.id: view for view in withdrawable_lines(order, now=now)}
    by_part: dict[int, dict[int, int]] = {}
    for line_id, quantity in sorted(wanted.items()):
        view = known.get(line_id)
        if view is None:
            raise WithdrawalError(_l("This item is not part of your order."), status_code=404)
        if view.problem is not None:
            raise WithdrawalError(view.problem)
        if not 0 < quantity <= view.remaining:
            raise WithdrawalError(
                _l("You can return between 1 and %(num)d of “%(title)s”.",
                   num=view.remaining, title=view.line.title),
                status_code=400,
            )
        by_part.setdefault(view.part.id, {})[line_id] = quantity

    reason = (reason or "").strip()[:500]
    parts = {part.id: part for part in order.parts}
    payments = payment_page()
    refunds = []
    returned = []  # (line, quantity), for the shopper's email
    for part_id, quantities in sorted(by_part.items()):
        part = parts[part_id]
        # The goods are still at the shopper's: they come back into stock when the seller
        # receives them (a "return" stock change), not now, or they could be sold twice.
        try:
            refund = payments.refund_part(part, quantities=quantities, by=None,
                                          reason=REFUND_REASON, goods_returned=False)
        except payments.refund_error as exc:
            if not refunds:
                raise  # nothing was refunded: the shopper sees the refusal, nothing changed
            # An earlier seller's refund went through (recorded at once, a durable step): keep
            # it, say what failed, and let the staff of this seller follow up.
            audit.record("order.withdrawal_failed", part, by=by_user, data={
                "reference": order.reference, "part_id": part.id, "error": str(exc.message),
            })
            continue
        refunds.append(refund)
        items = [(known[line_id].line, quantity) for line_id, quantity in quantities.items()]
        returned.extend(items)
        audit.record("order.withdrawal", part, by=by_user, data={
            "reference": order.reference,
            "part_id": part.id,
            "lines": {str(line_id): quantity for line_id, quantity in quantities.items()},
            "amount_cents": refund.amount_cents,
            "reason": reason,
        })
        if part.organization.contact_email:
            queue_email(
                "withdrawal_seller", to=part.organization.contact_email, order=order, part=part,
                items=items, refund=refund, reason=reason,
                link=external_url("orders_staff.part", org_id=part.organization_id, part_id=part.id),
            )
    queue_email(
        "withdrawal_shopper", to=order.email, locale=order.locale, order=order, items=returned,
        refunded_cents=sum(refund.amount_cents for refund in refunds),
    )
    return refunds
