"""The shopper's orders: their list, an order's page and who may open it, cancelling before
payment."""
from datetime import timedelta

import pytest

from marketplace.db import db
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.links import order_key
from marketplace.orders.models import HoldState, OrderStatus
from tests.orders.helpers import make_cart
from tests.orders.shopper import text, where

pytestmark = pytest.mark.english


def place(market, *, user=None, email="ada@example.org", items=None):
    cart = make_cart(*(items or [(market.lamp, 2), (market.bowl, 1)]))
    view = carts.view(cart)
    order = orders.checkout(
        view,
        buyer=orders.Buyer(email=user.email if user else email, name="Ada Lovelace",
                           user_id=user.id if user else None, locale="en"),
        slot_ids={group.organization.id: (market.canal_slots[0] if group.organization == market.canal
                                          else market.loire_slots[0]).id
                  for group in view.groups},
        accepted_terms=True,
    )
    db.session.commit()
    return order


def pay(order):
    orders.mark_paid(order, amount_paid_cents=order.total_cents, payment_intent_id="pi_test")
    db.session.commit()


def test_my_orders_lists_mine_newest_first(client, login, market, make_user):
    user, other = make_user(), make_user()
    first = place(market, user=user, items=[(market.jam, 1)])
    second = place(market, user=user)
    pay(second)
    place(market, user=other, items=[(market.jam, 2)])
    place(market, email="guest@example.org", items=[(market.jam, 3)])

    assert where(client.get("/account/orders")).startswith("/login")
    login(user)
    page = text(client.get("/account/orders"))
    assert page.count('class="my-order-reference"') == 2
    assert page.index(second.reference) < page.index(first.reference)
    assert "Paid" in page and "Waiting for payment" in page
    assert "€42.50" in page and "€4.50" in page


def test_empty_order_list(client, login, make_user):
    login(make_user())
    assert "You have not ordered anything yet." in text(client.get("/account/orders"))


def test_order_page_shows_parts_slots_addresses_and_amounts(client, login, market, make_user):
    user = login(make_user())
    order = place(market, user=user)
    pay(order)
    page = text(client.get(f"/orders/{order.reference}"))
    assert f"Order {order.reference}" in page and "Paid" in page
    assert "Ressourcerie du Canal" in page and "Atelier de la Loire" in page
    assert "14 rue Francis de Pressensé" in page and "69003 Lyon" in page and "42000 Saint-Étienne" in page
    assert "Sonnez à l&#39;interphone." in page
    assert "2 × Lampe de bureau" in page and "€30.00" in page
    assert "Subtotal: €12.50" in page and "Total: €42.50" in page
    slot = market.canal_slots[0]
    assert f'<time datetime="{slot.starts_at.isoformat()}">' in page
    assert "within 14 days after collecting it" in page
    assert "Cancel the order" not in page


def test_order_page_access(client, make_app, login, market, make_user):
    owner, stranger = make_user(), make_user()
    mine = place(market, user=owner)
    guests = place(market, items=[(market.jam, 1)])
    url, guest_url = f"/orders/{mine.reference}", f"/orders/{guests.reference}"

    assert client.get(url).status_code == 404  # not logged in
    assert client.get(guest_url).status_code == 404
    assert client.get(f"{guest_url}?key={order_key(guests)}").status_code == 200
    assert client.get(f"{guest_url}?key={order_key(mine)}").status_code == 404  # another's key
    assert client.get(f"{guest_url}?key={order_key(guests)[:-2]}xx").status_code == 404
    assert client.get(f"{url}?key={order_key(mine)}").status_code == 200  # the emailed link
    assert client.get("/orders/ESS-2026-999999").status_code == 404

    login(stranger)
    assert client.get(url).status_code == 404
    assert client.get(guest_url).status_code == 404
    login(owner)
    assert client.get(url).status_code == 200


def test_guest_key_is_refused_for_another_purpose_or_another_order_of_that_reference(app, market):
    from itsdangerous import URLSafeSerializer

    order = place(market)
    created = int(order.created_at.timestamp())
    client = app.test_client()

    def opens(salt, payload) -> bool:
        key = URLSafeSerializer(app.config["SECRET_KEY"], salt=salt).dumps(payload)
        return client.get(f"/orders/{order.reference}?key={key}").status_code == 200

    assert opens("orders.guest-link", [order.reference, created])
    assert not opens("accounts.verify-email", [order.reference, created])
    # The same reference in a database started afresh is another order.
    assert not opens("orders.guest-link", [order.reference, created - 3600])


def test_guest_cancels_before_payment_with_the_link(client, market, outbox):
    order = place(market)
    assert carts.available_quantities([market.lamp.id]) == {market.lamp.id: 1}
    key = order_key(order)
    page = text(client.get(f"/orders/{order.reference}?key={key}"))
    assert "This order is waiting for payment." in page
    assert f'<input type="hidden" name="key" value="{key}">' in page

    assert client.post(f"/orders/{order.reference}/cancel").status_code == 404  # no key
    response = client.post(f"/orders/{order.reference}/cancel", data={"key": key})
    assert where(response) == f"/orders/{order.reference}?key={key}"
    db.session.expire_all()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    assert {hold.state for hold in order.holds} == {HoldState.RELEASED}
    assert carts.available_quantities([market.lamp.id]) == {market.lamp.id: 3}
    assert orders.slot_places_taken(market.canal_slots[0]) == 0
    assert [mail.subject for mail in outbox] == [f"Your order {order.reference} is cancelled"]
    page = text(client.get(where(response)))
    assert "is cancelled. Nothing was charged." in page and "Cancelled" in page


def test_a_paid_order_cannot_be_cancelled_by_the_shopper(client, login, market, make_user, outbox):
    user = login(make_user())
    order = place(market, user=user)
    pay(order)
    outbox.clear()
    response = client.post(f"/orders/{order.reference}/cancel")
    assert "This order can no longer be cancelled here: it is “Paid”." in text(client.get(where(response)))
    db.session.expire_all()
    assert order.status == OrderStatus.PAID
    assert outbox == []


def test_expired_unpaid_order_page(client, login, market, make_user):
    from freezegun import freeze_time

    user = login(make_user())
    order = place(market, user=user)
    with freeze_time(order.hold_expires_at + timedelta(minutes=1)):
        page = text(client.get(f"/orders/{order.reference}"))
    assert "The time to pay this order is over" in page and "Pay now" not in page
