"""Demo money: a few paid orders, a gift card partly spent at a counter, and Stripe accounts
(simulated) for two sellers, so that the counter, the gift card pages, "What we owe you" and
`flask payouts run` have something to show. Everything goes through the real services and the
demo gateway. Loaded once (when the demo has no order yet)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from marketplace.catalog.models import Product, ProductStatus
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.organizations.models import Organization
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.pickup import services as pickup

# Sellers paid by the demo shopper, and those whose (simulated) Stripe account is ready.
SALES = ("ressourcerie-la-trouvaille", "atelier-velo-la-roue-libre", "boutique-equitable-terre-commune")
CONNECTED = ("ressourcerie-la-trouvaille", "atelier-velo-la-roue-libre")
CARD_SELLER = "epicerie-solidaire-le-panier-partage"


def seed_money(shopper) -> str | None:
    """The code of the demo gift card, or None when the demo already had orders."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Order)):
        return None
    sellers = {o.slug: o for o in db.session.scalars(
        sa.select(Organization).where(Organization.slug.in_(SALES + (CARD_SELLER,))))}
    with current_app.test_request_context(base_url=current_app.config["SERVER_BASE_URL"]):
        for slug in SALES:
            _paid_order(shopper, sellers[slug])
    card = cards.issue(5000, buyer_email=shopper.email, buyer_name=shopper.name,
                       buyer_user_id=shopper.id)
    db.session.flush()
    cards.redeem(card.id, 2000, organization=sellers[CARD_SELLER], nonce="demo-counter")
    gateway = DemoGateway()
    for slug in CONNECTED:
        organization = sellers[slug]
        organization.stripe_account_id = gateway.create_connected_account(
            email=organization.contact_email or "", name=organization.name,
            idempotency_key=f"connect-{organization.id}")
        organization.payouts_enabled = True
    db.session.commit()
    return card.display_code


def _paid_order(shopper, organization) -> None:
    product = db.session.scalar(
        sa.select(Product).where(Product.organization_id == organization.id,
                                 Product.status == ProductStatus.ACTIVE,
                                 sa.or_(Product.stock.is_(None), Product.stock >= 3))
        .order_by(Product.id).limit(1))
    slots = pickup.upcoming_slots(organization.id)
    held = orders.slot_places_held([slot.id for slot in slots])
    slot = next((slot for slot in slots
                 if pickup.slot_state(slot, taken=slot.booked + held[slot.id])
                 == pickup.SlotState.OPEN), None)
    if product is None or slot is None:
        return
    cart = carts.new_cart()
    carts.add(cart, product, 1)
    order = orders.checkout(
        carts.view(cart),
        buyer=orders.Buyer(email=shopper.email, name=shopper.name, user_id=shopper.id),
        slot_ids={organization.id: slot.id}, accepted_terms=True,
    )
    db.session.delete(cart)
    db.session.commit()
    session = payments.start_payment(order)
    db.session.commit()
    DemoGateway().complete(session.id)
    db.session.commit()
    payments.fulfil_checkout_session(session.id)
