"""Paying an order with gift cards, online: the cards are debited at checkout (inside the
checkout's unit of work, after the stock and slot locks, cards locked in id order), the rest
goes through the gateway, and what the cards paid goes back to them when the order is not paid
in time, cancelled or refunded (cards first). Only goods can be paid with cards, not other cards.

Online spending creates no seller credit in the ledger: the paid order part already credits the
seller; the cards' money was with the platform since they were bought."""
from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace import audit
from marketplace.db import db, lock_rows, utcnow
from marketplace.giftcards import codes, throttle
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard, OrderCardPayment, TransactionKind
from marketplace.i18n import lazy_gettext as _l

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
    """Debit the cards, in id order, for up to `payable_cents`; returns what they paid."""
    left = payable_cents
    paid = 0
    now = utcnow()
    for card in sorted(found, key=lambda c: c.id):
        if left <= 0:
            break

        def take(locked, now, left=left):
            cards.check_spendable(locked, now)
            if locked.balance_cents <= 0:
                raise cards.CardError(_l("The gift card %(code)s has nothing left on it.",
                                         code=locked.display_code))
            return -min(locked.balance_cents, left)

        move = cards.move_balance(card.id, TransactionKind.REDEEM, order_id=order.id,
                                  nonce=f"order-{order.id}", now=now, check=take,
                                  reason=f"order {order.reference or order.id}")
        amount = -move.transaction.amount_cents
        db.session.add(OrderCardPayment(order_id=order.id, card_id=card.id, amount_cents=amount))
        if not move.replayed:
            audit.record("giftcard.paid_order", move.card, by=order.user, data=cards.audit_data(
                move.card.code, order_id=order.id, amount_cents=amount,
                balance_after_cents=move.transaction.balance_after_cents))
        left -= amount
        paid += amount
    order.gift_cards_cents = paid
    db.session.flush()
    return paid


def payments_of(order_id: int) -> list[OrderCardPayment]:
    return list(db.session.scalars(
        sa.select(OrderCardPayment).where(OrderCardPayment.order_id == order_id)
        .order_by(OrderCardPayment.card_id)))


def cards_paid(order) -> int:
    return order.gift_cards_cents or 0


def cards_left_to_refund(order_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(
            sa.func.sum(OrderCardPayment.amount_cents - OrderCardPayment.refunded_cents), 0))
        .where(OrderCardPayment.order_id == order_id))


def amount_due(order) -> int:
    """What the gateway has to charge: the total less what the cards paid."""
    return order.total_cents - cards_paid(order)


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
