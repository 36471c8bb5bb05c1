"""How an order is paid, asked by the orders domain and answered by the domains above it that
hold the money, which register here at import (docs/architecture.md, "Payments"):

- **Prepaid means** (`register(name, method)`): money spent at checkout, before the payment
  page, whose total the order keeps in `gift_cards_cents`. `giftcards.payment` registers
  "gift_cards": the codes typed in the checkout form's field of that name.
- **The payment page** (`register_page(page)`): the gateway that charges the rest, and refunds
  what it took. `payments.services` registers it.

The checkout, the shopper's pages and the sellers' order pages stay in orders and ask through
here; orders imports neither payments nor gift cards.
"""
from __future__ import annotations

from typing import Protocol

from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.signals import extra_items

GIFT_CARDS = "gift_cards"


class PrepaidMethod(Protocol):
    """A means spent at checkout (after the stock and slot locks), given back when the order is
    not paid in time, cancelled or refunded (before the payment page's money)."""

    errors: tuple[type[Exception], ...]  # refusals the checkout page shows (409, 400, 429...)

    def find(self, text: str) -> list:
        """What the shopper typed, read (raises a DomainError naming what is wrong)."""

    def pay(self, order, found: list, payable_cents: int) -> int:
        """Spend `found` on `order` for up to `payable_cents`; sets `order.gift_cards_cents`."""

    def notes(self, order, found: list) -> list:
        """Sentences for the shopper about what `found` could not pay."""

    def left_to_give_back(self, order) -> int:
        """What it paid of `order` and has not had back."""

    def give_back(self, order, *, amount_cents: int | None = None, key: str = "release") -> int:
        """Put (up to `amount_cents` of) what it paid back; once per `key`."""


class PaymentPage(Protocol):
    """The gateway's payment page, for what the prepaid means left to pay, and its refunds."""

    refund_error: type[Exception]  # a refund refused or not sent (its message is for the page)

    def start_payment(self, order):
        """A payment session (its `url` is the page); a DomainError when none can be opened."""

    def expire_remote_session(self, session_id: str) -> bool:
        """Nobody may pay on this session any more (called after the commit)."""

    def fulfil_return(self, session_id: str):
        """The shopper is back from the page: the order, paid if the gateway says so; None
        when no order or the gateway does not know the session."""

    def refund_part(self, part, *, quantities, by, reason: str, goods_returned: bool):
        """Refund these lines of a paid part (a named durable step, see the docs)."""

    def cancel_part(self, part, *, by, reason: str):
        """Cancel a paid part that was not collected, and refund it."""

    def parts_of_refunds(self, refund_ids) -> dict[int, int | None]:
        """The part each refund was for (None: the whole order's)."""


_PREPAID: dict[str, PrepaidMethod] = {}
_PAGE: list[PaymentPage] = []


def register(name: str, method: PrepaidMethod) -> None:
    """Add (or, registered again, replace) a prepaid means."""
    _PREPAID[name] = method


def register_page(page: PaymentPage) -> None:
    """Set the payment page (one per application; registered again, replaced)."""
    _PAGE[:] = [page]


def prepaid(name: str) -> PrepaidMethod:
    try:
        return _PREPAID[name]
    except KeyError:
        raise LookupError(f"no prepaid means {name!r} is registered") from None


def page() -> PaymentPage:
    if not _PAGE:
        raise LookupError("no payment page is registered (marketplace.payments.services)")
    return _PAGE[0]


def prepaid_errors() -> tuple[type[Exception], ...]:
    """What the prepaid means refuse with, for the checkout page to show."""
    return tuple(error for method in _PREPAID.values() for error in method.errors)


def prepaid_cents(order) -> int:
    """What the prepaid means paid of `order` at checkout."""
    return order.gift_cards_cents or 0


def amount_due(order) -> int:
    """What the payment page has to charge: the total less what the prepaid means paid."""
    return order.total_cents - prepaid_cents(order)


def left_to_give_back(order) -> int:
    """What the prepaid means paid of `order` and have not had back (0 when they paid
    nothing: nothing is read)."""
    if not order.gift_cards_cents:
        return 0
    return sum(method.left_to_give_back(order) for method in _PREPAID.values())


def give_back(order, *, amount_cents: int | None = None, key: str = "release") -> int:
    """Put (up to `amount_cents` of) what the prepaid means paid back on them, once per `key`.
    Returns the amount given back."""
    if not order.gift_cards_cents:
        return 0
    given = 0
    for method in _PREPAID.values():
        left = None if amount_cents is None else amount_cents - given
        if left is not None and left <= 0:
            break
        given += method.give_back(order, amount_cents=left, key=key)
    return given


def payment_lines(order) -> list[tuple[str, int, int]]:
    """What the payment page lists, (name, unit price in cents, quantity), adding up to
    `amount_due`: the goods, then what the order sells besides goods (orders.signals.extra_items:
    the gift cards bought); one line for the rest when prepaid means paid part; one line
    naming what an order without goods pays for."""
    due = amount_due(order)
    if due != order.total_cents:
        # Gift cards paid part of it: a payment page takes no negative line, so one line.
        return [(str(_l("Order %(reference)s, after gift cards", reference=order.reference)),
                 due, 1)]
    if not order.parts and order.description:
        # No goods (a works council's campaign of gift cards): one line, what it pays for.
        return [(order.description[:250], due, 1)]
    return [
        (f"{line.title} — {part.organization.name}"[:250], line.unit_price_cents, line.quantity)
        for part in order.parts
        for line in part.lines
    ] + [(name, cents, 1) for _receiver, items in extra_items.send(order)
         for name, cents in items or ()]
