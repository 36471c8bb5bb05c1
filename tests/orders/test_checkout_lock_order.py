"""A checkout takes its rows' locks in the order every other path takes them, products then
slots (PostgreSQL). A payment (mark_paid) or a release locks the products of an order, then its
slots; a checkout whose first written row referred to the slot (a KEY SHARE lock, PostgreSQL's
check of the reference) and then waited for the product deadlocked with it: seen once in the
two-node test, where a shopper paid while another checked the same item out."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import Cart, Order
from marketplace.organizations.models import Organization
from marketplace.pickup.models import PickupSlot
from tests.orders.helpers import make_cart, place_order

pytestmark = pytest.mark.postgres


def _waiting_for_a_lock(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar()


def test_a_checkout_waiting_for_a_paid_product_holds_nothing_of_its_slot(app, shop):
    seller, product, slot = shop
    cart = make_cart((product, 1))
    db.session.commit()
    ids = {"cart": cart.id, "seller": seller.id, "slot": slot.id}
    engine = sa.create_engine(db.engine.url)
    payer = engine.connect()
    trans = payer.begin()
    # The payment's first lock: the product (orders.services._OpenHolds.locked).
    payer.execute(sa.text("SELECT id FROM product WHERE id = :id FOR UPDATE"), {"id": product.id})
    outcome = {}

    def check_out():
        with app.app_context():
            try:
                order = place_order(db.session.get(Cart, ids["cart"]), {
                    db.session.get(Organization, ids["seller"]):
                        db.session.get(PickupSlot, ids["slot"])})
                db.session.commit()
                outcome["order"] = order.id
            except Exception as exc:  # noqa: BLE001 - handed to the test
                db.session.rollback()
                outcome["error"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=check_out)
    thread.start()
    try:
        for _ in range(100):  # until the checkout waits for the product
            if _waiting_for_a_lock(engine):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the checkout never waited for the product locked by the payment")
        # The payment's second lock: the slot. The checkout must not hold it.
        payer.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
        payer.execute(sa.text("SELECT id FROM pickup_slot WHERE id = :id FOR UPDATE"),
                      {"id": slot.id})
        trans.commit()
    finally:
        if trans.is_active:
            trans.rollback()
        payer.close()
        thread.join(30)
        engine.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert db.session.get(Order, outcome["order"]) is not None
