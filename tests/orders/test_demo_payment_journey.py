"""The whole journey with the demo gateway (no Stripe key): cart, checkout, the demo payment
page, and back to the shop: paid, abandoned, declined."""
import pytest

from marketplace.db import db
from marketplace.orders import cart as carts
from marketplace.orders.models import Cart, OrderStatus
from tests.orders.shopper import GUEST, add_to_cart, checkout, last_order, text, where

pytestmark = pytest.mark.english


@pytest.fixture
def demo(app):
    """The payments pages on this app (until the payments blueprint is in BLUEPRINTS)."""
    if "payments" not in app.blueprints:
        from marketplace.payments.views import bp

        app.register_blueprint(bp)
    assert not app.config.get("STRIPE_SECRET_KEY")
    return app


def go_to_demo_page(client, market) -> str:
    add_to_cart(client, market.lamp, 2)
    add_to_cart(client, market.bowl, 1)
    response = checkout(client, {market.canal: market.canal_slots[0],
                                 market.loire: market.loire_slots[0]}, **GUEST)
    assert response.status_code == 303
    page = where(response)
    assert page.startswith("/payments/demo/")
    assert client.get(page).status_code == 200
    return page


def cart_size() -> int:
    db.session.expire_all()
    return sum(len(cart.lines) for cart in db.session.scalars(db.select(Cart)))


def test_pay_on_the_demo_page(client, demo, market, outbox):
    page = go_to_demo_page(client, market)
    response = client.post(f"{page}/pay")
    success = where(response)
    assert success.startswith("/checkout/success?session_id=")

    result = text(client.get(success))
    order = last_order()
    assert order.status == OrderStatus.PAID
    assert "Thank you, your order is paid" in result and order.reference in result
    assert cart_size() == 0
    assert [mail.subject for mail in outbox] == [f"Your order {order.reference} is confirmed"]
    assert client.get(success).status_code == 200  # a reload changes nothing
    assert len(outbox) == 1


def test_abandon_on_the_demo_page_then_pay_again(client, demo, market):
    page = go_to_demo_page(client, market)
    order = last_order()
    back = where(client.post(f"{page}/abandon"))
    assert back == f"/checkout/cancelled/{order.reference}"
    assert "Your order is not paid yet" in text(client.get(back))
    assert cart_size() == 2  # the cart is kept

    again = where(client.post(f"/orders/{order.reference}/pay"))
    assert again == page  # the same open session is given again
    client.post(f"{again}/pay")
    assert last_order().status == OrderStatus.PAID


def test_decline_on_the_demo_page_gives_everything_back(client, demo, market):
    page = go_to_demo_page(client, market)
    client.post(f"{page}/decline")
    order = last_order()
    assert order.status == OrderStatus.EXPIRED
    assert carts.available_quantities([market.lamp.id]) == {market.lamp.id: 3}
    assert cart_size() == 2
    # Coming back to the shop shows the order as not paid in time, and the cart is there.
    back = where(client.get(f"/checkout/cancelled/{order.reference}"))
    assert "Not paid in time" in text(client.get(back))


def test_unknown_demo_session_on_the_success_page_is_404(client, demo, market):
    assert client.get("/checkout/success?session_id=demo_cs_nope").status_code == 404
