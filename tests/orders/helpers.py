"""Building orders in tests without going through the pages."""
from __future__ import annotations

from datetime import timedelta

from marketplace.db import db, utcnow
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Cart, CartLine
from marketplace.pickup import services as pickup


def make_slot(organization, *, capacity=10, days_ahead=3, cutoff_hours=1):
    location = pickup.save_location(
        None, organization, by=None, name="Boutique", address_line="1 rue de la Paix",
        postcode="69001", town="Lyon",
    )
    starts = (utcnow() + timedelta(days=days_ahead)).replace(minute=0, second=0, microsecond=0)
    return pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                           capacity=capacity, cutoff_hours=cutoff_hours, by=None)


def make_cart(*items) -> Cart:
    """make_cart((product, quantity), ...): a saved cart with these lines."""
    cart = Cart(token=f"test-{id(items)}-{utcnow().timestamp()}")
    for product, quantity in items:
        cart.lines.append(CartLine(product=product, quantity=quantity))
    db.session.add(cart)
    db.session.flush()
    return cart


def place_order(cart: Cart, slots: dict, *, email="ada@example.org", name="Ada Lovelace"):
    """Checkout of `cart`, `slots` mapping each organization to its chosen PickupSlot."""
    return orders.checkout(
        carts.view(cart),
        buyer=orders.Buyer(email=email, name=name),
        slot_ids={org.id: slot.id for org, slot in slots.items()},
        accepted_terms=True,
    )
