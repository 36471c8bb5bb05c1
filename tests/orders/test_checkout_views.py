"""Checkout through the pages: details, a pickup slot per seller, terms; the order holds stock
and places and the shopper is sent to the payment page; the way back, paid or not."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from marketplace.catalog.models import Product
from marketplace.db import db, utcnow
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Cart, Hold, HoldState, Order, OrderStatus
from marketplace.pickup import services as pickup
from tests.orders.helpers import make_cart, place_order
from tests.orders.shopper import (
    GUEST,
    PAYMENT_PAGE,
    add_slot,
    add_to_cart,
    checkout,
    last_order,
    text,
    where,
)

pytestmark = pytest.mark.english


def fill_cart(client, market):
    add_to_cart(client, market.lamp, 2)
    add_to_cart(client, market.jam, 1)
    add_to_cart(client, market.bowl, 1)


def both_slots(market):
    return {market.canal: market.canal_slots[0], market.loire: market.loire_slots[0]}


def order_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Order.id)))


def cart_titles() -> dict[str, int]:
    db.session.expire_all()
    return {line.product.title: line.quantity for cart in db.session.scalars(sa.select(Cart))
            for line in cart.lines}


def test_checkout_page_offers_each_sellers_slots_the_terms_and_the_hold(client, market):
    fill_cart(client, market)
    page = text(client.get("/checkout"))
    assert "<legend>Pickup at Ressourcerie du Canal</legend>" in page
    assert "<legend>Pickup at Atelier de la Loire</legend>" in page
    for slot in (*market.canal_slots, *market.loire_slots):
        assert re.search(rf'<input type="radio" id="slot-\d+-{slot.id}" name="slot-\d+" value="{slot.id}"\s*>', page)
    assert "5 places left" in page
    for label in ("Your name", "Email address", "Phone number (optional)"):
        assert f">{label}</label>" in page
    assert 'I accept the <a href="/legal/terms">terms of sale</a>' in page
    assert ("You may withdraw from your purchase within 14 days after collecting it, "
            "except for perishable goods.") in page
    assert ("This product of your order is perishable, so it has no right of withdrawal: "
            "Confiture de fraises.") in page
    assert "Your items are kept for 30 minutes while you pay." in page
    assert "Total: €47.00" in page
    assert "style=" not in page  # nothing inline (the CSP allows only the site's files)
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)


def test_guest_checkout_with_two_sellers_holds_and_goes_to_the_payment_page(
    client, market, fake_payments
):
    fill_cart(client, market)
    response = checkout(client, both_slots(market), **GUEST)

    assert response.status_code == 303
    order = last_order()
    assert response.headers["Location"] == PAYMENT_PAGE + order.checkout_session_id
    assert order.status == OrderStatus.PENDING_PAYMENT and order.user_id is None
    assert (order.name, order.email, order.phone, order.locale) == (
        "Ada Lovelace", "ada@example.org", "06 12 34 56 78", "en")
    assert order.total_cents == 4700
    assert {(p.organization.name, p.slot_id, p.subtotal_cents) for p in order.parts} == {
        ("Ressourcerie du Canal", market.canal_slots[0].id, 3450),
        ("Atelier de la Loire", market.loire_slots[0].id, 1250),
    }
    assert carts.available_quantities([market.lamp.id, market.bowl.id]) == {
        market.lamp.id: 1, market.bowl.id: 4}
    assert orders.slot_places_taken(market.canal_slots[0]) == 1
    assert orders.slot_places_taken(market.loire_slots[0]) == 1
    # The cart stays until the payment succeeds: an abandoned payment loses nothing.
    assert cart_titles() == {"Lampe de bureau": 2, "Confiture de fraises": 1, "Bol en céramique": 1}


def test_logged_in_checkout_uses_the_account(client, login, market, make_user, fake_payments):
    user = login(make_user(email="camille@example.org", name="Camille Martin"))
    fill_cart(client, market)
    page = text(client.get("/checkout"))
    assert 'value="Camille Martin"' in page
    assert "We will send the confirmation to camille@example.org." in page
    assert 'name="email"' not in page

    response = checkout(client, both_slots(market), name="Camille M.", email="other@example.org")
    assert response.status_code == 303
    order = last_order()
    assert (order.user_id, order.email, order.name) == (user.id, "camille@example.org", "Camille M.")
    assert len(order.parts) == 2


def test_unavailable_slots_are_shown_disabled_and_refused_when_posted(
    client, market, fake_payments
):
    canal_place = market.canal_slots[0].location
    full = add_slot(canal_place, days=5, capacity=1)
    closed = add_slot(canal_place, days=6)
    pickup.close_slot(closed, reason="Inventaire", by=None)
    place_order(make_cart((market.jam, 1)), {market.canal: full})  # someone holds its place
    db.session.commit()
    fill_cart(client, market)

    page = text(client.get("/checkout"))
    for slot in (full, closed):
        assert re.search(rf'value="{slot.id}"\s*disabled>', page)
    assert "Full" in page and "Closed: Inventaire" in page

    before = order_count()
    response = checkout(client, {market.canal: full, market.loire: market.loire_slots[0]}, **GUEST)
    assert response.status_code == 409
    assert "This pickup slot is full: please choose another." in text(response)
    response = checkout(client, {market.canal: closed, market.loire: market.loire_slots[0]}, **GUEST)
    assert response.status_code == 409
    assert "This pickup slot is closed: please choose another." in text(response)
    # Another seller's slot is not a choice either.
    response = checkout(client, {market.canal: market.loire_slots[0],
                                 market.loire: market.loire_slots[0]}, **GUEST)
    assert response.status_code == 409
    assert "This pickup slot is not available: please choose another." in text(response)
    assert order_count() == before
    assert fake_payments.started == []


def test_missing_details_slot_or_terms_are_asked_again(client, market, fake_payments):
    fill_cart(client, market)
    response = checkout(client, {market.canal: market.canal_slots[1]}, accept=False,
                        name="", email="not-an-email", phone="abc")
    assert response.status_code == 400
    page = text(response)
    assert "Please enter your name." in page
    assert "Please enter a valid email address" in page
    assert "Please enter a phone number, like 06 12 34 56 78." in page
    assert "Choose a pickup slot for Atelier de la Loire." in page
    assert "Please accept the terms of sale to order." in page
    assert re.search(rf'value="{market.canal_slots[1].id}"\s*checked>', page)  # kept
    assert order_count() == 0


def test_checkout_for_more_than_what_is_left_is_refused_and_holds_nothing(
    client, market, fake_payments, monkeypatch
):
    add_to_cart(client, market.lamp, 3)
    real_checkout = orders.checkout

    def sold_meanwhile(*args, **kwargs):
        # The seller sells two lamps at the counter between the cart page and the checkout.
        with db.engine.begin() as other:
            other.execute(sa.update(Product).where(Product.id == market.lamp.id).values(stock=1))
        return real_checkout(*args, **kwargs)

    monkeypatch.setattr("marketplace.orders.services.checkout", sold_meanwhile)
    response = checkout(client, {market.canal: market.canal_slots[0]}, **GUEST)

    assert response.status_code == 409
    page = text(response)
    assert "Only 1 left of “Lampe de bureau”: your cart was not ordered." in page
    assert "Only 1 left: lower the quantity to continue." in page  # the page reads it again
    assert order_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(Hold.id))) == 0
    assert orders.slot_places_taken(market.canal_slots[0]) == 0
    assert fake_payments.started == []


def test_empty_cart_has_no_checkout(client, market):
    response = client.get("/checkout")
    assert where(response) == "/cart"
    assert "Your cart is empty." in text(client.get("/cart"))


def test_paid_order_success_page_and_the_cart_emptied_once(client, market, fake_payments, outbox):
    fill_cart(client, market)
    checkout(client, both_slots(market), **GUEST)
    order = last_order()

    # Not paid yet (the gateway has not confirmed): nothing changes.
    session_id = order.checkout_session_id
    page = text(client.get(f"/checkout/success?session_id={session_id}"))
    assert "Your payment is being confirmed" in page and "Refresh this page in a moment." in page
    assert len(cart_titles()) == 3

    fake_payments.pay(order)
    response = client.get(f"/checkout/success?session_id={session_id}")
    assert response.status_code == 200
    page = text(response)
    assert "Thank you, your order is paid" in page
    assert f"Your order {order.reference} is confirmed." in page
    assert "Ressourcerie du Canal" in page and "Atelier de la Loire" in page
    assert "2 × Lampe de bureau" in page and "Total: €47.00" in page
    assert last_order().status == OrderStatus.PAID
    assert cart_titles() == {}
    assert [mail.subject for mail in outbox] == [f"Your order {order.reference} is confirmed"]

    # A reload does not take away what was added since.
    add_to_cart(client, market.bowl, 1)
    client.get(f"/checkout/success?session_id={session_id}")
    assert cart_titles() == {"Bol en céramique": 1}
    assert len(outbox) == 1


def test_unknown_payment_session_is_404(client, market, fake_payments):
    assert client.get("/checkout/success?session_id=cs_test_nope").status_code == 404
    assert client.get("/checkout/success").status_code == 404


def test_back_from_the_payment_page_pay_again_or_cancel(client, market, fake_payments, outbox):
    fill_cart(client, market)
    checkout(client, both_slots(market), **GUEST)
    order = last_order()

    page = text(client.get(f"/checkout/cancelled/{order.reference}"))
    assert "Your order is not paid yet" in page
    assert f'action="/orders/{order.reference}/pay"' in page
    assert f'action="/orders/{order.reference}/cancel"' in page

    response = client.post(f"/orders/{order.reference}/pay")
    assert response.status_code == 303
    assert response.headers["Location"] == PAYMENT_PAGE + last_order().checkout_session_id
    assert len(fake_payments.started) == 2

    response = client.post(f"/orders/{order.reference}/cancel")
    assert where(response) == f"/orders/{order.reference}"
    order = last_order()
    assert order.status == OrderStatus.CANCELLED
    assert all(hold.state == HoldState.RELEASED for hold in order.holds)
    assert carts.available_quantities([market.lamp.id]) == {market.lamp.id: 3}
    assert fake_payments.expired == [order.checkout_session_id]
    assert [mail.subject for mail in outbox] == [f"Your order {order.reference} is cancelled"]
    assert len(cart_titles()) == 3  # the cart is still there


def test_back_after_the_hold_ended(client, market, fake_payments):
    fill_cart(client, market)
    checkout(client, both_slots(market), **GUEST)
    order = last_order()
    with freeze_time(utcnow() + timedelta(minutes=31)):
        page = text(client.get(f"/checkout/cancelled/{order.reference}"))
        assert "The time to pay order" in page and "Pay now" not in page
        response = client.post(f"/orders/{order.reference}/pay")
        assert where(response) == "/cart"
        assert "Your items are no longer kept for this order" in text(client.get("/cart"))
    assert len(fake_payments.started) == 1


def test_someone_else_cannot_use_the_way_back(client, make_app, market, fake_payments):
    fill_cart(client, market)
    checkout(client, both_slots(market), **GUEST)
    order = last_order()
    stranger = make_app(BABEL_DEFAULT_LOCALE="en").test_client()
    assert stranger.get(f"/checkout/cancelled/{order.reference}").status_code == 404
    assert stranger.post(f"/orders/{order.reference}/cancel").status_code == 404
    assert stranger.post(f"/orders/{order.reference}/pay").status_code == 404
    assert last_order().status == OrderStatus.PENDING_PAYMENT


def test_unpaid_order_is_offered_on_the_cart_and_replaced_by_a_new_checkout(
    client, market, fake_payments
):
    add_to_cart(client, market.lamp, 1)
    add_to_cart(client, market.bowl, 1)
    checkout(client, both_slots(market), **GUEST)
    first = last_order()

    page = text(client.get("/cart"))
    assert f"Your order {first.reference} is waiting for payment." in page
    assert "Cancel it and change my cart" in page

    client.post(f"/cart/lines/{market.bowl.id}/remove")
    client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 2})
    assert (f"You have an unpaid order, {first.reference}: ordering now cancels it"
            in text(client.get("/checkout")))
    response = checkout(client, {market.canal: market.canal_slots[1]}, **GUEST)
    assert response.status_code == 303
    second = last_order()
    db.session.refresh(first)
    assert first.status == OrderStatus.CANCELLED and second.status == OrderStatus.PENDING_PAYMENT
    assert fake_payments.expired == [first.checkout_session_id]
    # Only the new order holds anything.
    assert carts.available_quantities([market.lamp.id, market.bowl.id]) == {
        market.lamp.id: 1, market.bowl.id: 5}
    assert orders.slot_places_taken(market.canal_slots[0]) == 0
    assert orders.slot_places_taken(market.canal_slots[1]) == 1


def test_a_refused_checkout_keeps_the_unpaid_order_it_would_have_replaced(
    client, market, fake_payments, monkeypatch
):
    """The checkout page abandons its whole unit on a refusal (no SAVEPOINT around the
    checkout): the unpaid order it released is kept with its holds, what the refused checkout
    wrote before the refusal (order, holds, counters) is gone, and the page reads the shelf as
    it stands."""
    add_to_cart(client, market.lamp, 1)
    checkout(client, {market.canal: market.canal_slots[0]}, **GUEST)
    first = last_order()
    client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 2})
    real_checkout = orders.checkout

    def refused_at_the_end(*args, **kwargs):
        real_checkout(*args, **kwargs)  # everything written, then refused (a gift card, say)
        raise orders.CheckoutError("Refused after everything was written.")

    monkeypatch.setattr("marketplace.orders.services.checkout", refused_at_the_end)
    response = checkout(client, {market.canal: market.canal_slots[1]}, **GUEST)

    assert response.status_code == 409
    page = text(response)
    assert "Refused after everything was written." in page
    assert f"You have an unpaid order, {first.reference}" in page  # still there
    assert order_count() == 1
    db.session.expire_all()
    assert first.status == OrderStatus.PENDING_PAYMENT
    assert {h.state for h in db.session.scalars(sa.select(Hold).where(
        Hold.order_id == first.id))} == {HoldState.HELD}
    assert db.session.get(Product, market.lamp.id).held_units == 1
    assert orders.slot_places_taken(market.canal_slots[0]) == 1
    assert orders.slot_places_taken(market.canal_slots[1]) == 0
    assert fake_payments.expired == []


def test_cancel_from_the_cart_notice_goes_back_to_the_cart(client, market, fake_payments):
    add_to_cart(client, market.lamp, 3)
    checkout(client, {market.canal: market.canal_slots[0]}, **GUEST)
    order = last_order()
    # Its own hold takes every lamp: the cart says so, and the notice offers a way out.
    assert "Out of stock: remove it to continue." in text(client.get("/cart"))
    response = client.post(f"/orders/{order.reference}/cancel", data={"next": "cart"})
    assert where(response) == "/cart"
    page = text(client.get("/cart"))
    assert "is cancelled. Nothing was charged." in page
    assert "to continue." not in page and 'href="/checkout"' in page


def test_payment_that_cannot_start_leaves_the_order_to_pay_later(client, market, monkeypatch):
    from marketplace.payments.gateway import GatewayError

    def unreachable(order):
        raise GatewayError(detail="timeout", definite=False)

    monkeypatch.setattr("marketplace.payments.services.start_payment", unreachable)
    fill_cart(client, market)
    response = checkout(client, both_slots(market), **GUEST)
    order = last_order()
    assert where(response) == f"/checkout/cancelled/{order.reference}"
    page = text(client.get(where(response)))
    assert "The payment provider could not complete this operation." in page
    assert "Pay now" in page
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_the_order_and_its_holds_are_on_disk_before_the_payment_page_is_asked_for(
    client, market, fake_payments, monkeypatch
):
    """A named durable step (docs/architecture.md): the gateway is asked for a payment page
    only once the order and its holds are committed and the rows they locked are free again
    (a payment page never exists for an order that is not saved, and no lock waits on Stripe)."""
    seen = []
    real_start = fake_payments.start_payment

    def start_payment(order):
        with db.engine.connect() as other:
            seen.append((
                other.scalar(sa.select(sa.func.count()).select_from(Order)),
                other.scalar(sa.select(sa.func.count()).select_from(Hold)),
                # Locked without waiting (PostgreSQL; SQLite has no row locks): nobody holds it.
                other.scalar(sa.select(Product.id).where(Product.id == market.lamp.id)
                             .with_for_update(nowait=True)),
            ))
            other.rollback()
        return real_start(order)

    monkeypatch.setattr("marketplace.payments.services.start_payment", start_payment)
    add_to_cart(client, market.lamp, 1)
    response = checkout(client, {market.canal: market.canal_slots[0]}, **GUEST)
    assert response.status_code == 303
    assert seen == [(1, 2, market.lamp.id)]  # the order; its holds on the lamp and the slot
