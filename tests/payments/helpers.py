"""Orders to pay in payment tests: sellers with a pickup slot, an order placed through the real
checkout (holds on stock and slot places), and a look at what an order left behind."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from marketplace import uow
from marketplace.catalog.models import Product, StockMovement, StockReason
from marketplace.db import db, utcnow
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Cart, Hold, HoldState, Order
from marketplace.pickup import services as pickup
from marketplace.pickup.models import PickupLocation, PickupSlot
from tests import factories


def in_unit(function, *args, **kwargs):
    """Call a service as a job, a command or a request does: in a unit of work, committed at
    its end, after which what it queued for after the commit runs (a gateway session ended, a
    late payment refunded)."""
    with uow.unit():
        return function(*args, **kwargs)


@dataclass
class Seller:
    organization: object
    slot: PickupSlot


def make_seller(name: str = "Ressourcerie du Canal", *, capacity: int = 10) -> Seller:
    organization = factories.make_organization(name=name)
    location = pickup.save_location(
        None, organization, by=None, name="Boutique", address_line="1 rue de la Paix",
        postcode="69003", town="Lyon", instructions="", opening_hours="",
    )
    starts = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                           capacity=capacity, cutoff_hours=1, by=None)
    return Seller(organization, slot)


def place_order(items, *, email: str = "shopper@example.org", locale: str = "en") -> Order:
    """Check out [(product, quantity), ...] as a guest; committed, holds in place."""
    cart = Cart(token=secrets.token_urlsafe(32))
    db.session.add(cart)
    db.session.flush()
    slots = {}
    for product, quantity in items:
        carts.add(cart, product, quantity)
        slot = db.session.scalar(
            sa.select(PickupSlot).join(PickupSlot.location)
            .where(PickupLocation.organization_id == product.organization_id)
            .order_by(PickupSlot.id)
        )
        slots[product.organization_id] = slot.id
    order = orders.checkout(
        carts.view(cart),
        buyer=orders.Buyer(email=email, name="Camille Martin", locale=locale),
        slot_ids=slots, accepted_terms=True,
    )
    db.session.delete(cart)
    db.session.commit()
    return order


def end_hold(order: Order, *, minutes_ago: int = 1) -> None:
    """The order's hold ended (its expiry is in the past); no job has run yet."""
    past = utcnow() - timedelta(minutes=minutes_ago)
    order.hold_expires_at = past
    for hold in order.holds:
        hold.expires_at = past
    db.session.commit()


def reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


def stock_of(product: Product) -> int | None:
    db.session.expire_all()
    return db.session.get(Product, product.id).stock


def sales_of(product: Product) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(StockMovement)
        .where(StockMovement.product_id == product.id, StockMovement.reason == StockReason.SALE)
    )


def active_holds(order: Order) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Hold)
        .where(Hold.order_id == order.id, Hold.state == HoldState.HELD)
    )
