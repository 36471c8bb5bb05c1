"""Demo money: a few paid orders, a gift card partly spent at a counter, and Stripe accounts
(simulated) for two sellers, so that the counter, the gift card pages, "What we owe you" and
`flask payouts run` have something to show; and one pickup slot of the ressourcerie booked up
by shoppers, so that the shop pages show a full slot ("Complet") with who is coming. Everything
goes through the real services and the demo gateway: every booked place is a paid order with
its pickup voucher. Loaded once (when the demo has no order yet), in the unit of work of the
command that seeds the demo: it commits once, at the command's end."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from marketplace.catalog.models import Product, ProductStatus
from marketplace.db import db
from marketplace.demo import DEMO_DOMAIN
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
# The seller whose next open slot the demo shoppers below book up (with the demo's shopper).
FULL_SLOT_SELLER = "ressourcerie-la-trouvaille"
# Shoppers who ordered as guests (name, email local part): enough for that seller's slots.
GUEST_SHOPPERS = [
    ("Mamadou Diallo", "mamadou.diallo"),
    ("Léa Fontaine", "lea.fontaine"),
    ("Hugo Lemaire", "hugo.lemaire"),
    ("Fatima Benaïssa", "fatima.benaissa"),
    ("Jeanne Morel", "jeanne.morel"),
    ("Nicolas Petit", "nicolas.petit"),
    ("Aïcha Traoré", "aicha.traore"),
    ("Pierre Marchand", "pierre.marchand"),
    ("Chloé Garnier", "chloe.garnier"),
    ("Antoine Roux", "antoine.roux"),
]


def seed_money(shopper) -> str | None:
    """The code of the demo gift card, or None when the demo already had orders."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Order)):
        return None
    sellers = {o.slug: o for o in db.session.scalars(
        sa.select(Organization).where(Organization.slug.in_(SALES + (CARD_SELLER,))))}
    camille = orders.Buyer(email=shopper.email, name=shopper.name, user_id=shopper.id)
    with current_app.test_request_context(base_url=current_app.config["SERVER_BASE_URL"]):
        booked = {slug: _paid_order(camille, sellers[slug]) for slug in SALES}
        _book_up(booked.get(FULL_SLOT_SELLER), sellers[FULL_SLOT_SELLER])
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
    db.session.flush()
    return card.display_code


def _book_up(slot, organization) -> None:
    """Guest shoppers order one item each in `slot` until its places are all booked."""
    if slot is None:
        return
    for name, local in GUEST_SHOPPERS:
        if slot.places_left == 0:
            break
        buyer = orders.Buyer(email=f"{local}@{DEMO_DOMAIN}", name=name)
        if _paid_order(buyer, organization, slot=slot) is None:
            break


def _paid_order(buyer: orders.Buyer, organization, *, slot=None):
    """A paid order of one item of the seller's, in `slot` or its first open slot; the slot."""
    product = db.session.scalar(
        sa.select(Product).where(Product.organization_id == organization.id,
                                 Product.status == ProductStatus.ACTIVE,
                                 sa.or_(Product.stock.is_(None), Product.stock - Product.held_units >= 1))
        .order_by(Product.stock.desc().nulls_first(), Product.id).limit(1))
    slots = [slot] if slot is not None else pickup.upcoming_slots(organization.id)
    held = orders.slot_places_held([s.id for s in slots])
    slot = next((s for s in slots
                 if pickup.slot_state(s, taken=s.booked + held[s.id]) == pickup.SlotState.OPEN), None)
    if product is None or slot is None:
        return None
    cart = carts.new_cart()
    carts.add(cart, product, 1)
    order = orders.checkout(carts.view(cart), buyer=buyer, slot_ids={organization.id: slot.id},
                            accepted_terms=True)
    db.session.delete(cart)
    # No lock of this unit (the seeding command's) is a problem here: the demo gateway is rows
    # in this database, not a remote call.
    session = payments.start_payment(order)
    DemoGateway().complete(session.id)
    payments.fulfil_checkout_session(session.id)
    db.session.refresh(slot)
    return slot
