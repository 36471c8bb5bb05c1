"""Buying gift cards through the cart, alone or with goods, paid through the same gateway and
fulfilment: the card is issued at payment and emailed to the recipient (or on its day)."""
import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace.db import db, utcnow
from marketplace.giftcards.models import CartCard, GiftCard, OrderCard
from marketplace.orders.models import Order, OrderStatus
from tests.factories import make_product
from tests.payments.helpers import in_unit
from tests.vouchers.helpers import make_shop


@pytest.fixture
def app(make_app):
    app = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    with app.app_context():
        yield app


def buy(client, **form):
    data = {"amount": "5000", "for_whom": "me", **form}
    return client.post("/cards/buy", data=data)


def checkout(client, **extra):
    data = {"name": "Camille Martin", "email": "camille@example.org", "accept_terms": "y", **extra}
    return client.post("/checkout", data=data)


def pay(client, response):
    page = client.get(urlsplit(response.location).path)
    action = re.search(r'action="(/payments/demo/[^"]+/pay)"', page.get_data(as_text=True)).group(1)
    return client.post(action, follow_redirects=True)


def test_a_gift_card_alone_paid_on_the_demo_page_is_issued_and_emailed(client, app, outbox):
    response = buy(client, for_whom="gift", recipient_name="Léa", recipient_email="lea@example.org",
                   message="Bon anniversaire !")
    assert response.status_code == 303
    cart = client.get("/cart").get_data(as_text=True)
    assert "Ethical gift card" in cart and "for Léa" in cart and "€50.00" in cart
    page = client.get("/checkout").get_data(as_text=True)
    assert 'type="radio"' not in page  # nothing to collect: no pickup slot to choose
    response = checkout(client)
    assert response.status_code in (302, 303) and "/payments/demo/" in response.location
    pay(client, response)

    order = db.session.scalar(sa.select(Order))
    assert order.status == OrderStatus.PAID and order.total_cents == 5000
    card = db.session.scalar(sa.select(GiftCard))
    assert card.balance_cents == 5000 and card.order_id == order.id
    assert card.recipient_email == "lea@example.org" and card.delivered_at is not None
    to_lea = [m for m in outbox if m.to == ["lea@example.org"]]
    assert len(to_lea) == 1 and card.display_code in to_lea[0].body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)) == 0
    # Paying again (a replayed fulfilment) issues nothing more.
    from marketplace.orders import services as orders

    orders.mark_paid(order, amount_paid_cents=5000, payment_intent_id=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GiftCard)) == 1


def test_goods_and_a_card_in_one_order(client, app, outbox):
    shop = make_shop()
    lamp = make_product(shop.organization, title="Lampe", price_cents=1500, stock=3)
    db.session.commit()
    client.post("/cart/add", data={"product_id": lamp.id, "quantity": 1})
    buy(client, amount="other", other_amount="42,50")
    response = checkout(client, **{f"slot-{shop.organization.id}": shop.slot.id})
    pay(client, response)
    order = db.session.scalar(sa.select(Order))
    assert order.total_cents == 1500 + 4250 and order.status == OrderStatus.PAID
    (card,) = db.session.scalars(sa.select(GiftCard)).all()
    assert card.initial_cents == 4250 and card.holder_user_id is None
    assert any(card.display_code in m.body for m in outbox if m.to == ["camille@example.org"])


def test_a_gift_for_later_is_emailed_on_its_day(client, app, outbox):
    from marketplace.giftcards import notify

    day = utcnow().date() + timedelta(days=5)
    buy(client, for_whom="gift", recipient_name="Léa", recipient_email="lea@example.org",
        deliver_on=day.isoformat())
    pay(client, checkout(client))
    assert [m for m in outbox if m.to == ["lea@example.org"]] == []
    assert in_unit(notify.deliver_due, today=day) == 1
    assert len([m for m in outbox if m.to == ["lea@example.org"]]) == 1


@pytest.mark.parametrize("form, message", [
    ({"amount": "other", "other_amount": "5"}, "between 10 and 150"),
    ({"amount": "other", "other_amount": "151"}, "between 10 and 150"),
    ({"amount": "other", "other_amount": "abc"}, "Type an amount"),
    ({"amount": "9999"}, "Not a valid choice"),
    ({"for_whom": "gift", "recipient_name": "Léa", "recipient_email": "not-an-email"}, "not valid"),
    ({"for_whom": "gift", "recipient_email": "lea@example.org"}, "recipient's name"),
    ({"for_whom": "gift", "recipient_name": "Léa", "recipient_email": "lea@example.org",
      "deliver_on": "2001-01-01"}, "delivery date"),
])
def test_bad_forms_are_refused_with_a_message_and_nothing_added(client, app, form, message):
    response = buy(client, **form)
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)) == 0


def test_a_card_line_can_be_removed_and_only_from_ones_own_cart(client, app, make_app):
    buy(client)
    line = db.session.scalar(sa.select(CartCard))
    other = app.test_client()
    assert other.post(f"/cart/cards/{line.id}/remove").status_code == 404
    assert client.post(f"/cart/cards/{line.id}/remove").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)) == 0


def test_cards_in_a_visitors_cart_follow_into_the_account_at_login(client, app):
    from tests.factories import DEFAULT_PASSWORD, make_user

    user = make_user(email="camille@example.org", locale="en")
    db.session.commit()
    buy(client)
    client.post("/login", data={"email": "camille@example.org", "password": DEFAULT_PASSWORD})
    assert "Ethical gift card" in client.get("/cart").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)) == 1
    assert db.session.scalar(sa.select(OrderCard)) is None
    assert user.id


def test_stripe_gets_a_line_for_each_card_and_the_right_total(make_app):
    from marketplace.payments import services as payments
    from tests.payments.fake_stripe import FakeStripe, stripe_settings

    fake = FakeStripe()
    app = make_app(**stripe_settings(fake))
    with app.app_context(), app.test_request_context():
        from marketplace.giftcards import purchase
        from marketplace.orders import cart as carts
        from marketplace.orders import services as orders
        from marketplace.orders.models import Cart

        shop = make_shop()
        lamp = make_product(shop.organization, price_cents=1500, stock=3)
        cart = Cart(token="t-stripe-cards")
        db.session.add(cart)
        db.session.flush()
        carts.add(cart, lamp, 1)
        purchase.add_to_cart(cart, 3000)
        order = orders.checkout(carts.view(cart), buyer=orders.Buyer(email="c@example.org", name="C"),
                                slot_ids={shop.organization.id: shop.slot.id}, accepted_terms=True)
        db.session.commit()
        session = payments.start_payment(order)
        db.session.commit()
        (call,) = fake.calls_to("post", "/v1/checkout/sessions")
        names = [item["price_data"]["product_data"]["name"] for item in call.params["line_items"]]
        assert "Ethical gift card" in names
        assert fake.sessions[session.id]["amount_total"] == order.total_cents == 4500
