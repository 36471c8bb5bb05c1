"""Checkout holds stock and slot places until the hold ends; payment turns holds into sales."""
from datetime import timedelta

import pytest
from freezegun import freeze_time

from marketplace.catalog.models import StockReason
from marketplace.catalog.services import stock_movements
from marketplace.db import utcnow
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import HoldState, OrderStatus
from marketplace.orders.status import IllegalTransition, transition
from tests.orders.helpers import make_cart, place_order


def test_checkout_holds_stock_and_a_slot_place(shop):
    seller, product, slot = shop
    order = place_order(make_cart((product, 2)), {seller: slot})
    assert order.reference.startswith("ESS-") and order.status == OrderStatus.PENDING_PAYMENT
    assert order.total_cents == 2500
    assert [p.subtotal_cents for p in order.parts] == [2500]
    assert carts.available_quantities([product.id]) == {product.id: 1}
    assert product.stock == 3  # held, not sold
    assert orders.slot_places_taken(slot) == 1


def test_a_checkout_for_more_than_what_is_left_holds_nothing(shop):
    seller, product, slot = shop
    place_order(make_cart((product, 2)), {seller: slot})
    with pytest.raises(orders.CheckoutError):
        place_order(make_cart((product, 2)), {seller: slot})
    assert carts.available_quantities([product.id]) == {product.id: 1}


def test_full_slot_refuses_the_checkout(shop, make_product):
    seller, product, slot = shop
    other = make_product(seller, stock=None)
    place_order(make_cart((other, 1)), {seller: slot})
    place_order(make_cart((other, 1)), {seller: slot})
    with pytest.raises(orders.CheckoutError, match="no longer available"):
        place_order(make_cart((other, 1)), {seller: slot})


def test_an_expired_hold_stops_counting_at_once(app, shop):
    seller, product, slot = shop
    with freeze_time(utcnow()) as clock:
        place_order(make_cart((product, 3)), {seller: slot})
        assert carts.available_quantities([product.id])[product.id] == 0
        clock.tick(timedelta(minutes=app.config["HOLD_MINUTES"], seconds=1))
        # No sweeper has run: the hold stopped counting by its expiry time alone.
        assert carts.available_quantities([product.id])[product.id] == 3
        assert orders.slot_places_taken(slot) == 0


def test_payment_turns_holds_into_sales_once(app, shop, outbox):
    from marketplace.db import db

    seller, product, slot = shop
    order = place_order(make_cart((product, 2)), {seller: slot})
    first = orders.mark_paid(order, amount_paid_cents=2500, payment_intent_id="pi_1")
    again = orders.mark_paid(order, amount_paid_cents=2500, payment_intent_id="pi_1")
    db.session.commit()
    assert first.newly_paid and not again.newly_paid
    assert order.status == OrderStatus.PAID and order.parts[0].status == OrderStatus.PAID
    assert product.stock == 1 and slot.booked == 1
    assert {h.state for h in order.holds} == {HoldState.CONSUMED}
    sales = [m for m in stock_movements(product) if m.reason == StockReason.SALE]
    assert [(m.delta, m.reference) for m in sales] == [(-2, order.reference)]
    part = order.parts[0]
    assert (part.commission_rate_bp, part.commission_cents, part.seller_amount_cents) == (500, 125, 2375)
    assert len(outbox) == 1 and order.reference in outbox[0].subject


def test_late_payment_is_refused_when_the_goods_are_gone(app, shop):
    seller, product, slot = shop
    with freeze_time(utcnow()) as clock:
        late = place_order(make_cart((product, 3)), {seller: slot})
        clock.tick(timedelta(minutes=app.config["HOLD_MINUTES"] + 1))
        place_order(make_cart((product, 1)), {seller: slot}, email="bob@example.org")
        outcome = orders.mark_paid(late, amount_paid_cents=3750, payment_intent_id="pi_late")
    assert outcome.refund_due_cents == 3750 and not outcome.newly_paid
    assert late.status == OrderStatus.EXPIRED and product.stock == 3


def test_late_payment_is_accepted_when_the_goods_are_still_there(app, shop):
    seller, product, slot = shop
    with freeze_time(utcnow()) as clock:
        order = place_order(make_cart((product, 1)), {seller: slot})
        clock.tick(timedelta(minutes=app.config["HOLD_MINUTES"] + 1))
        orders.release(order, status=OrderStatus.EXPIRED)
        outcome = orders.mark_paid(order, amount_paid_cents=1250, payment_intent_id="pi_2")
    assert outcome.newly_paid and order.status == OrderStatus.PAID and product.stock == 2


def test_release_gives_everything_back(shop):
    seller, product, slot = shop
    order = place_order(make_cart((product, 3)), {seller: slot})
    assert orders.release(order, status=OrderStatus.CANCELLED)
    assert carts.available_quantities([product.id])[product.id] == 3
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    assert not orders.release(order, status=OrderStatus.CANCELLED)  # already ended


def test_illegal_transitions_are_refused(shop):
    seller, product, slot = shop
    order = place_order(make_cart((product, 1)), {seller: slot})
    with pytest.raises(IllegalTransition):
        transition(order, OrderStatus.COLLECTED)
    orders.release(order, status=OrderStatus.CANCELLED)
    for target in OrderStatus:
        with pytest.raises(IllegalTransition):
            transition(order, target)


def test_cart_view_flags_lines_instead_of_dropping_them(shop, make_product):
    from marketplace.catalog import services as catalog
    from marketplace.catalog.models import ProductStatus

    seller, product, slot = shop
    archived = make_product(seller, stock=5, title="Vieux modèle")
    sold_out = make_product(seller, stock=0, title="Épuisé")
    catalog.set_status(archived, ProductStatus.ARCHIVED, by=None)
    view = carts.view(make_cart((product, 5), (archived, 1), (sold_out, 1)))
    problems = {v.product.title: str(v.problem) for v in view.groups[0].lines}
    assert "Only 3 left" in problems[product.title]
    assert "no longer for sale" in problems["Vieux modèle"]
    assert "Out of stock" in problems["Épuisé"]
    assert view.has_problems
    with pytest.raises(orders.CheckoutError):
        orders.checkout(view, buyer=orders.Buyer(email="a@b.org", name="A"),
                        slot_ids={seller.id: slot.id}, accepted_terms=True)
