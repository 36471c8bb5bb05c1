"""Paying an order with gift cards, online: the cards are debited at checkout (inside the
checkout's unit of work, after the stock and slot locks, cards locked in id order), the rest
goes through the gateway, and what the cards paid goes back to them when the order is not paid
in time, cancelled or refunded (cards first). Only goods can be paid with cards, not other cards.

Online spending creates no seller credit in the ledger: the paid order part already credits the
seller; the cards' money was with the platform since they were bought.

The cards are the orders domain's "gift_cards" prepaid means (orders.payment_methods,
registered at import, below): the checkout, the payment, the release and the refunds of an
order reach them through it."""
from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace import audit
from marketplace.db import db, lock_rows, utcnow
from marketplace.giftcards import codes, restrictions, throttle
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard, OrderCardPayment, TransactionKind
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter
from marketplace.orders import payment_methods

MAX_CARDS_PER_ORDER = 5


def find_cards(text: str | None) -> list[GiftCard]:
    """The cards a shopper typed (several: spaces, commas or new lines between them). Raises
    CardError naming what is wrong, or TooManyLookups (429) when the client's gift card lookups
    are used up (giftcards.throttle); checked again under the lock when debited."""
    words = [w for w in re.split(r"[\s,;]+", (text or "").strip()) if w]
    # A code typed in groups ("K7QM 4XPD R2ST 8WHN") comes back together.
    joined, found, chunk = [], [], ""
    for word in words:
        chunk += word.replace("-", "")
        if len(chunk) >= codes.LENGTH:
            joined.append(chunk)
            chunk = ""
    if chunk:
        joined.append(chunk)
    if len(joined) > MAX_CARDS_PER_ORDER:
        raise cards.CardError(_l("At most %(n)d gift cards per order.", n=MAX_CARDS_PER_ORDER),
                              status_code=400)
    typed = [(text_code, codes.normalize(text_code)) for text_code in joined]
    valid = [code for _, code in typed if code is not None]
    for _code in joined:  # each code typed is a lookup, as on the balance page
        throttle.count_lookup()
    by_code = {card.code: card for card in db.session.scalars(
        sa.select(GiftCard).where(GiftCard.code.in_(valid)))} if valid else {}
    for text_code, code in typed:  # in the order typed: the first wrong one is named
        if code is None or code not in by_code:
            throttle.wrong_code()  # TooManyLookups (429) once the wrong codes are used up
        if code is None:
            raise cards.CardError(_l("“%(code)s” is not a gift card code: check each character.",
                                     code=text_code[:24]), status_code=400)
        card = by_code.get(code)
        if card is None:
            raise cards.CardError(_l("No gift card has the code %(code)s.",
                                     code=codes.display(code)), status_code=400)
        if card not in found:
            found.append(card)
    return found


def pay_with_cards(order, found: list[GiftCard], payable_cents: int) -> int:
    """Debit the cards for up to `payable_cents`; returns what they paid.

    Cards without a restriction pay in id order, as much as they hold. A restricted card
    (giftcards.restrictions) pays only for the order's lines it allows (sellers, categories),
    and before the others, so that what it cannot pay is left to them; it is refused with its
    reason (CardRestricted) when it allows no line at all. The cards are locked in id order."""
    allowed = restrictions.of_cards(found)
    if not allowed:
        return _debit(order, sorted(found, key=lambda c: c.id), payable_cents)
    lines = _lines(order)
    for card in sorted(found, key=lambda c: c.id):
        restriction = allowed.get(card.id)
        if restriction is not None and not any(restriction.allows(organization_id, categories)
                                               for organization_id, categories, _ in lines):
            raise cards.CardRestricted(restriction)
    lock_rows(GiftCard, [card.id for card in found])  # in id order; paid in another order below
    left = [amount for _, _, amount in lines]

    def cap(card) -> int:
        restriction = allowed.get(card.id)
        return sum(left[i] for i, (organization_id, categories, _) in enumerate(lines)
                   if restriction is None or restriction.allows(organization_id, categories))

    def spent(card, amount: int) -> None:  # what the card paid comes off the lines it allows
        restriction = allowed.get(card.id)
        for i, (organization_id, categories, _) in enumerate(lines):
            if amount <= 0:
                break
            if restriction is None or restriction.allows(organization_id, categories):
                take = min(left[i], amount)
                left[i] -= take
                amount -= take

    ordered = sorted(found, key=lambda c: (c.id not in allowed, c.id))
    return _debit(order, ordered, payable_cents, cap=cap, spent=spent)


def _lines(order) -> list[tuple[int, tuple[int, ...], int]]:
    """The order's goods as (seller, (category, parent), amount): gift cards bought with the
    order are no line here, no card pays for them."""
    rows = [(part.organization_id, line.product_id, line.unit_price_cents * line.quantity)
            for part in order.parts for line in part.lines]
    categories = restrictions.categories_of_products(product_id for _, product_id, _ in rows)
    return [(organization_id, categories.get(product_id, ()), amount)
            for organization_id, product_id, amount in rows]


def _debit(order, ordered: list[GiftCard], payable_cents: int, *, cap=None, spent=None) -> int:
    """Debit the cards in this order, each for what it holds up to what is left to pay (and up
    to `cap(card)`, what its restriction lets it pay)."""
    left = payable_cents
    paid = 0
    now = utcnow()
    for card in ordered:
        if left <= 0:
            break
        limit = left if cap is None else min(left, cap(card))
        if limit <= 0:
            continue

        def take(locked, now, limit=limit):
            cards.check_spendable(locked, now)
            if locked.balance_cents <= 0:
                raise cards.CardError(_l("The gift card %(code)s has nothing left on it.",
                                         code=locked.display_code))
            return -min(locked.balance_cents, limit)

        move = cards.move_balance(card.id, TransactionKind.REDEEM, order_id=order.id,
                                  nonce=f"order-{order.id}", now=now, check=take,
                                  reason=f"order {order.reference or order.id}")
        amount = -move.transaction.amount_cents
        db.session.add(OrderCardPayment(order_id=order.id, card_id=card.id, amount_cents=amount))
        if not move.replayed:
            audit.record("giftcard.paid_order", move.card, by=order.user, data=cards.audit_data(
                move.card.code, order_id=order.id, amount_cents=amount,
                balance_after_cents=move.transaction.balance_after_cents))
        if spent is not None:
            spent(card, amount)
        left -= amount
        paid += amount
    order.gift_cards_cents = paid
    db.session.flush()
    return paid


def restriction_notes(order, found: list[GiftCard]) -> list:
    """Why restricted cards paid only part of the order (for the shopper, when something is
    left to pay by other means): one sentence per such card, with its reason."""
    if payment_methods.amount_due(order) <= 0:
        return []
    allowed = restrictions.of_cards(found)
    if not allowed:
        return []
    lines = _lines(order)
    paid = {payment.card_id: payment.amount_cents for payment in payments_of(order.id)}
    notes = []
    for card in sorted(found, key=lambda c: c.id):
        restriction = allowed.get(card.id)
        if restriction is None or all(restriction.allows(organization_id, categories)
                                      for organization_id, categories, _ in lines):
            continue
        notes.append(_l("The gift card %(code)s paid %(amount)s, only the goods it allows. "
                        "%(reason)s", code=card.masked_code,
                        amount=money_filter(paid.get(card.id, 0)), reason=restriction.reason))
    return notes


def payments_of(order_id: int) -> list[OrderCardPayment]:
    return list(db.session.scalars(
        sa.select(OrderCardPayment).where(OrderCardPayment.order_id == order_id)
        .order_by(OrderCardPayment.card_id)))


def cards_left_to_refund(order_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(
            sa.func.sum(OrderCardPayment.amount_cents - OrderCardPayment.refunded_cents), 0))
        .where(OrderCardPayment.order_id == order_id))


def give_back(order, *, amount_cents: int | None = None, key: str = "release") -> int:
    """Put (up to `amount_cents` of) what the cards paid back on them; once per `key`.
    Returns the amount given back."""
    given = 0
    remaining = amount_cents
    if not order.gift_cards_cents:
        return 0
    ids = [p.id for p in payments_of(order.id)]
    for payment in lock_rows(OrderCardPayment, ids):
        open_cents = payment.amount_cents - payment.refunded_cents
        if open_cents <= 0:
            continue
        take = open_cents if remaining is None else min(open_cents, remaining)
        if take <= 0:
            break
        move = cards.refund(payment.card_id, take, order_id=order.id,
                            reason=f"order {order.reference}", nonce=f"{key}-{order.id}")
        if not move.replayed:
            payment.refunded_cents += take
            given += take
            if remaining is not None:
                remaining -= take
    db.session.flush()
    return given


class GiftCards:
    """The cards as a prepaid means of the checkout (orders.payment_methods.PrepaidMethod)."""

    errors = (cards.CardError,)

    def find(self, text: str) -> list[GiftCard]:
        return find_cards(text)

    def pay(self, order, found: list[GiftCard], payable_cents: int) -> int:
        return pay_with_cards(order, found, payable_cents)

    def notes(self, order, found: list[GiftCard]) -> list:
        return restriction_notes(order, found)

    def left_to_give_back(self, order) -> int:
        return cards_left_to_refund(order.id)

    def give_back(self, order, *, amount_cents: int | None = None, key: str = "release") -> int:
        return give_back(order, amount_cents=amount_cents, key=key)


payment_methods.register(payment_methods.GIFT_CARDS, GiftCards())
