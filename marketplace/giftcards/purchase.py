"""Buying gift cards through the cart: card lines wait in the cart, become order lines at
checkout, and real cards when the order is paid (the same gateway and fulfilment as goods).

The orders domain tells this module what happens to an order through its signals
(orders.signals, receivers at the end): placed, sold, listed on the payment page, paid and
back in the shopper's cart."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from marketplace.db import db
from marketplace.giftcards import notify
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import CartCard, OrderCard
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import local_today
from marketplace.orders.signals import extra_items, order_left_cart, order_placed, order_sold

MAX_CARDS_PER_CART = 20
MESSAGE_MAX = 500
DELIVERY_MAX_DAYS = 365


def add_to_cart(cart, amount_cents: int, *, recipient_name: str | None = None,
                recipient_email: str | None = None, message: str | None = None,
                deliver_on: date | None = None, today: date | None = None) -> CartCard:
    """Validate and put a card in the cart. Raises CardError with the reason."""
    cards.check_amount(amount_cents)
    today = today or local_today()
    recipient_name = (recipient_name or "").strip()[:120] or None
    recipient_email = (recipient_email or "").strip() or None
    message = (message or "").strip() or None
    if recipient_email:
        try:
            recipient_email = validate_email(recipient_email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise cards.CardError(_l("The recipient's email address is not valid."),
                                  status_code=400) from None
        if not recipient_name:
            raise cards.CardError(_l("Give the recipient's name, shown on the card."),
                                  status_code=400)
    elif deliver_on or recipient_name:
        raise cards.CardError(_l("A gift needs the recipient's email address."), status_code=400)
    if message and len(message) > MESSAGE_MAX:
        raise cards.CardError(_l("The message is limited to %(n)d characters.", n=MESSAGE_MAX),
                              status_code=400)
    if deliver_on is not None and not today <= deliver_on <= today + timedelta(days=DELIVERY_MAX_DAYS):
        raise cards.CardError(_l("Choose a delivery date between today and one year from now."),
                              status_code=400)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)
                              .where(CartCard.cart_id == cart.id))
    if count >= MAX_CARDS_PER_CART:
        raise cards.CardError(_l("A cart holds at most %(n)d gift cards.", n=MAX_CARDS_PER_CART),
                              status_code=400)
    line = CartCard(amount_cents=amount_cents, recipient_name=recipient_name,
                    recipient_email=recipient_email, message=message,
                    deliver_on=deliver_on if deliver_on and deliver_on > today else None)
    cart.cards.append(line)
    db.session.flush()
    return line


def in_cart(cart) -> list[CartCard]:
    if cart is None or cart.id is None:
        return []
    return list(cart.cards)


def remove_from_cart(cart, line_id: int) -> bool:
    line = next((card for card in cart.cards if card.id == line_id), None)
    if line is None:
        return False
    cart.cards.remove(line)
    db.session.flush()
    return True


def to_order(order_id: int, lines: list[CartCard]) -> list[OrderCard]:
    ordered = [OrderCard(order_id=order_id, amount_cents=line.amount_cents,
                         recipient_name=line.recipient_name, recipient_email=line.recipient_email,
                         message=line.message, deliver_on=line.deliver_on) for line in lines]
    db.session.add_all(ordered)
    return ordered


def of_order(order_id: int) -> list[OrderCard]:
    return list(db.session.scalars(
        sa.select(OrderCard).where(OrderCard.order_id == order_id).order_by(OrderCard.id)))


def remove_ordered(cart, order_id: int) -> None:
    """After payment: the cart's card lines that this order bought leave the cart."""
    bought = of_order(order_id)
    for line in list(in_cart(cart)):
        match = next((o for o in bought if o.amount_cents == line.amount_cents
                      and o.recipient_email == line.recipient_email), None)
        if match is not None:
            bought.remove(match)
            cart.cards.remove(line)


def issue_for_order(order) -> list:
    """The order is paid: one card per card line (once), emailed now or on its delivery day."""
    issued = []
    for line in of_order(order.id):
        if line.card_id is not None:
            continue
        card = cards.issue(
            line.amount_cents, buyer_email=order.email, buyer_name=order.name,
            buyer_user_id=order.user_id, recipient_name=line.recipient_name,
            recipient_email=line.recipient_email, message=line.message,
            deliver_on=line.deliver_on, order_id=order.id, locale=order.locale,
        )
        line.card_id = card.id
        if notify.due(card):
            notify.send_card(card)
        issued.append(card)
    db.session.flush()
    return issued


# --- what the orders domain says (orders.signals) ---------------------------------------------


@order_placed.connect
def _order_placed(order, *, cart) -> None:
    """The cart's gift cards become the order's card lines."""
    if cart.cards:
        to_order(order.id, cart.cards)


@order_sold.connect
def _order_sold(order) -> None:
    issue_for_order(order)


@extra_items.connect
def _extra_items(order) -> list[tuple[str, int]]:
    """One line of the payment page per card bought."""
    return [(str(_l("Ethical gift card")), card.amount_cents) for card in of_order(order.id)]


@order_left_cart.connect
def _order_left_cart(order, *, cart) -> None:
    remove_ordered(cart, order.id)
