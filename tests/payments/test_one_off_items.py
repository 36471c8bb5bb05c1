"""A one-off second-hand item (stock 1, with a condition) leaves the catalogue while it is held
or sold, and comes back when the hold is released or the order cancelled; the cached catalogue
pages follow at once (marketplace/caching.py). New goods out of stock stay listed."""
from __future__ import annotations

import pytest

from marketplace.catalog.models import Condition
from marketplace.db import db
from marketplace.orders import services as orders
from marketplace.orders.models import OrderStatus
from marketplace.payments import refunds
from marketplace.payments import services as payments
from tests import factories
from tests.payments.conftest import ensure_order_pages
from tests.payments.fake_stripe import stripe_settings
from tests.payments.helpers import in_unit, make_seller, place_order, reload

pytestmark = pytest.mark.english


@pytest.fixture
def app(make_app, fake_stripe):
    app = make_app(CATALOG_CACHE_SECONDS=60, BABEL_DEFAULT_LOCALE="en",
                   **stripe_settings(fake_stripe))
    ensure_order_pages(app)
    with app.app_context():
        yield app


@pytest.fixture
def armchair(app):
    seller = make_seller("Ressourcerie du Canal")
    item = factories.make_product(seller.organization, title="Fauteuil en rotin", stock=1,
                                  price_cents=3500)
    item.condition = Condition.GOOD
    jam = factories.make_product(seller.organization, title="Confiture de figues", stock=1)
    db.session.commit()
    return item, jam


def listed(client) -> set[str]:
    """The titles an anonymous visitor sees on the catalogue page and in the API."""
    page = client.get("/products").get_data(as_text=True)
    api = {item["title"] for item in client.get("/api/v1/products").get_json()["items"]}
    html = {title for title in ("Fauteuil en rotin", "Confiture de figues") if title in page}
    assert html == api, (html, api)
    return html


def test_a_one_off_item_leaves_when_held_and_comes_back_when_the_hold_is_released(
        client, armchair):
    item, _jam = armchair
    assert listed(client) == {"Fauteuil en rotin", "Confiture de figues"}
    assert client.get("/products").headers["X-Cache"] == "hit"  # the page is cached

    order = place_order([(item, 1)])  # the checkout holds the only unit
    assert listed(client) == {"Confiture de figues"}
    page = client.get(f"/products/{item.id}")  # its page still answers, without a cart button
    assert page.status_code == 200 and "Out of stock" in page.get_data(as_text=True)
    assert "Add to cart" not in page.get_data(as_text=True)

    in_unit(orders.release, reload(order), status=OrderStatus.CANCELLED)
    assert listed(client) == {"Fauteuil en rotin", "Confiture de figues"}
    assert "Add to cart" in client.get(f"/products/{item.id}").get_data(as_text=True)


def test_a_one_off_item_sold_leaves_and_returns_when_the_order_is_cancelled(
        client, armchair, fake_stripe):
    item, jam = armchair
    assert listed(client) == {"Fauteuil en rotin", "Confiture de figues"}
    order = place_order([(item, 1), (jam, 1)])
    session = payments.start_payment(order)
    db.session.commit()
    fake_stripe.pay(session.id)
    in_unit(payments.fulfil_checkout_session, session.id)
    order = reload(order)
    assert order.status == OrderStatus.PAID
    assert (reload(item).stock, reload(jam).stock) == (0, 0)
    # Sold: the second-hand item is gone; the jam, new goods, is listed "out of stock".
    assert listed(client) == {"Confiture de figues"}

    in_unit(refunds.refund_part, reload(order.parts[0]), quantities=None, by=None,
            reason="The shopper cannot come")
    assert reload(item).stock == 1
    assert listed(client) == {"Fauteuil en rotin", "Confiture de figues"}
