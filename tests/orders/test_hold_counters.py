"""The held-units and held-places counters (product.held_units, pickup_slot.held_places).

They always equal what the holds in state "held" keep, whatever happens to the orders; and
availability read through them (counter less the holds already expired) is exactly what the
sum of the running holds says, including the moment a hold expires with no sweeper run.
"""
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import db, utcnow
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Cart, CartLine, Hold, HoldState, Order, OrderStatus
from marketplace.pickup.models import PickupSlot
from tests.orders.helpers import make_cart, make_slot, place_order


def held_by_holds(*, product_id=None, slot_id=None, running_at=None) -> int:
    """What the holds themselves say: those in state held (and not expired at `running_at`)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(Hold.quantity), 0)).where(
        Hold.state == HoldState.HELD)
    if product_id is not None:
        query = query.where(Hold.product_id == product_id)
    else:
        query = query.where(Hold.slot_id == slot_id)
    if running_at is not None:
        query = query.where(Hold.expires_at > running_at)
    return int(db.session.scalar(query))


def assert_counters_match(product, slot) -> None:
    db.session.flush()
    counters = db.session.execute(sa.select(Product.held_units).where(Product.id == product.id)
                                  ).scalar_one()
    places = db.session.execute(sa.select(PickupSlot.held_places).where(PickupSlot.id == slot.id)
                                ).scalar_one()
    assert counters == held_by_holds(product_id=product.id)
    assert places == held_by_holds(slot_id=slot.id)


def test_counters_follow_checkout_payment_and_release(shop):
    seller, product, slot = shop
    paid = place_order(make_cart((product, 2)), {seller: slot})
    cancelled = place_order(make_cart((product, 1)), {seller: slot}, email="bob@example.org")
    assert (product.held_units, slot.held_places) == (3, 2)
    assert_counters_match(product, slot)

    orders.mark_paid(paid, amount_paid_cents=2500, payment_intent_id="pi_1")
    assert (product.stock, product.held_units, slot.booked, slot.held_places) == (1, 1, 1, 1)
    assert_counters_match(product, slot)

    orders.release(cancelled, status=OrderStatus.CANCELLED)
    db.session.expire_all()
    assert (product.held_units, slot.held_places) == (0, 0)
    assert_counters_match(product, slot)
    assert carts.available_quantities([product.id]) == {product.id: 1}


def test_a_hold_is_not_an_edit_of_the_product(shop):
    seller, product, slot = shop
    db.session.commit()
    edited = product.updated_at
    order = place_order(make_cart((product, 1)), {seller: slot})
    orders.release(order, status=OrderStatus.CANCELLED)
    db.session.commit()
    assert product.updated_at == edited


def test_the_last_units_can_be_bought_the_moment_a_hold_expires(app, shop):
    seller, product, slot = shop
    with freeze_time(utcnow()) as clock:
        first = place_order(make_cart((product, 3)), {seller: slot})
        db.session.commit()
        with pytest.raises(orders.CheckoutError):  # the cart view already says none is left
            place_order(make_cart((product, 1)), {seller: slot}, email="bob@example.org")
        db.session.rollback()
        clock.tick(timedelta(minutes=app.config["HOLD_MINUTES"], seconds=1))

        # No sweeper has run: the counter still counts the expired hold, the checkout does not.
        assert product.held_units == 3
        second = place_order(make_cart((product, 3)), {seller: slot}, email="bob@example.org")
        assert second.status == OrderStatus.PENDING_PAYMENT
        assert product.held_units == 6 and carts.available_quantities([product.id]) == {product.id: 0}
        assert_counters_match(product, slot)

        # The sweeper releases the expired one: the counter keeps only the running hold.
        for stale in orders.stale_orders():
            orders.release(stale, status=OrderStatus.EXPIRED)
        db.session.expire_all()
        assert first.status == OrderStatus.EXPIRED
        assert product.held_units == 3 and slot.held_places == 1
        assert_counters_match(product, slot)


def test_a_full_slot_frees_a_place_the_moment_a_hold_expires(app, shop, make_product):
    seller, _product, slot = shop
    service = make_product(seller, stock=None, title="Atelier réparation")
    with freeze_time(utcnow()) as clock:
        place_order(make_cart((service, 1)), {seller: slot})
        place_order(make_cart((service, 1)), {seller: slot})
        db.session.commit()
        with pytest.raises(orders.CheckoutError, match="no longer available"):
            place_order(make_cart((service, 1)), {seller: slot})
        db.session.rollback()
        clock.tick(timedelta(minutes=app.config["HOLD_MINUTES"], seconds=1))
        place_order(make_cart((service, 1)), {seller: slot})
        assert slot.held_places == 3 and orders.slot_places_taken(slot) == 1
        assert carts.available_quantities([service.id]) == {service.id: None}  # unlimited
        assert_counters_match(service, slot)


def test_a_checkout_refused_inside_the_lock_leaves_the_counters_after_the_rollback(shop):
    seller, product, slot = shop
    view = carts.view(make_cart((product, 2)))
    db.session.commit()
    # The seller sells two in the shop between the cart page and the checkout.
    catalog.adjust_stock(product, delta=-2, reason=StockReason.MANUAL)
    db.session.commit()
    with pytest.raises(orders.CheckoutError, match="Only 1 left"):
        orders.checkout(view, buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: slot.id}, accepted_terms=True)
    db.session.rollback()
    assert (product.held_units, slot.held_places) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_slot_of_another_seller_or_twice_is_refused(shop, make_organization, make_product):
    seller, product, slot = shop
    other = make_organization(name="Épicerie")
    other_slot = make_slot(other)
    jam = make_product(other, stock=4, title="Confiture")
    db.session.commit()
    with pytest.raises(orders.CheckoutError, match="does not exist"):
        orders.checkout(carts.view(make_cart((product, 1))), buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: other_slot.id}, accepted_terms=True)
    db.session.rollback()
    with pytest.raises(orders.CheckoutError, match="does not exist"):
        orders.checkout(carts.view(make_cart((product, 1), (jam, 1))),
                        buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: slot.id, other.id: slot.id}, accepted_terms=True)
    db.session.rollback()
    with pytest.raises(orders.CheckoutError, match="does not exist"):
        orders.checkout(carts.view(make_cart((product, 1))), buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: 999_999}, accepted_terms=True)
    db.session.rollback()
    assert (product.held_units, slot.held_places) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


steps = st.lists(st.one_of(
    st.tuples(st.just("checkout"), st.integers(1, 3)),
    st.tuples(st.just("pay"), st.integers(0, 9)),
    st.tuples(st.just("cancel"), st.integers(0, 9)),
    st.tuples(st.just("wait"), st.sampled_from([1, 10, 29, 31])),  # minutes
    st.tuples(st.just("sweep"), st.just(0)),
    st.tuples(st.just("restock"), st.integers(0, 6)),
), min_size=1, max_size=20)


@pytest.fixture
def seller(make_organization):
    seller = make_organization(name="Recyclerie")
    db.session.commit()
    return seller


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stock=st.integers(0, 6), capacity=st.integers(1, 4), plan=steps)
# The moment a hold expires, with no sweeper run, for the last unit and for the last place.
@example(stock=1, capacity=4, plan=[("checkout", 1), ("wait", 31), ("checkout", 1)])
@example(stock=6, capacity=1, plan=[("checkout", 1), ("wait", 31), ("checkout", 2), ("pay", 0)])
def test_counters_and_availability_agree_with_the_holds(app, seller, make_product, stock,
                                                          capacity, plan):
    """Whatever happens, in any order: the counters equal the held holds, availability equals
    stock less the running holds, and a checkout succeeds exactly when that leaves enough."""
    product = make_product(seller, stock=stock, title="Lampe")
    slot = make_slot(seller, capacity=capacity)
    db.session.commit()
    placed: list[int] = []
    with freeze_time(utcnow()) as clock:
        for kind, value in plan:
            now = utcnow()
            if kind == "checkout":
                left = product.stock - held_by_holds(product_id=product.id, running_at=now)
                places = slot.capacity - slot.booked - held_by_holds(slot_id=slot.id, running_at=now)
                try:
                    cart = Cart(token=secrets.token_urlsafe(16),
                                lines=[CartLine(product=product, quantity=value)])
                    db.session.add(cart)
                    order = orders.checkout(
                        carts.view(cart),
                        buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: slot.id}, accepted_terms=True)
                    placed.append(order.id)
                    succeeded = True
                except orders.CheckoutError:
                    succeeded = False
                assert succeeded == (value <= left and places > 0), (value, left, places)
            elif kind in ("pay", "cancel") and placed:
                order = db.session.get(Order, placed[value % len(placed)])
                if kind == "pay":
                    orders.mark_paid(order, amount_paid_cents=order.total_cents,
                                     payment_intent_id=None)
                else:
                    orders.release(order, status=OrderStatus.CANCELLED)
            elif kind == "wait":
                clock.tick(timedelta(minutes=value))
            elif kind == "sweep":
                for stale in orders.stale_orders():
                    orders.release(stale, status=OrderStatus.EXPIRED)
            elif kind == "restock":
                catalog.adjust_stock(product, new_stock=value, reason=StockReason.MANUAL)
            # Committed, or rolled back when the step was refused: as the views do.
            if kind == "checkout" and not succeeded:
                db.session.rollback()
            else:
                db.session.commit()
            db.session.expire_all()

            now = utcnow()
            assert_counters_match(product, slot)
            running = held_by_holds(product_id=product.id, running_at=now)
            assert carts.available_quantities([product.id]) == {product.id: product.stock - running}
            assert orders.slot_places_taken(slot) == slot.booked + held_by_holds(
                slot_id=slot.id, running_at=now)
            assert product.stock >= 0 and 0 <= slot.booked <= slot.capacity
