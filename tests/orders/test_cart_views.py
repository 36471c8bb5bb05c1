"""The cart as a shopper uses it: add from the product page, change, remove, flagged lines,
merged into the account at login."""
import re

import pytest

from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductStatus, StockReason
from marketplace.catalog.views import product_url
from marketplace.db import db
from marketplace.orders import cart as carts
from marketplace.orders.models import Cart
from tests.orders.shopper import add_to_cart, log_in, product_path, text, where

pytestmark = pytest.mark.english


def cart_lines() -> dict[str, int]:
    """Every saved cart's lines, by product title (the tests use one cart at a time)."""
    db.session.expire_all()
    return {line.product.title: line.quantity for cart in db.session.scalars(db.select(Cart))
            for line in cart.lines}


def test_product_page_offers_add_to_cart_with_a_csrf_protected_form(make_app, market):
    client = make_app(WTF_CSRF_ENABLED=True, BABEL_DEFAULT_LOCALE="en").test_client()
    page = text(client.get(product_url(market.lamp)))
    form = re.search(r'<form class="add-to-cart" action="/cart/add" method="post">(.*?)</form>',
                     page, re.S).group(1)
    assert 'name="csrf_token"' in form
    assert f'name="product_id" value="{market.lamp.id}"' in form
    assert '<label for="add-quantity">Quantity</label>' in form and 'max="3"' in form
    assert "Add to cart" in form
    assert page.count('method="post"') == page.count('name="csrf_token"')


def test_product_page_has_no_add_to_cart_when_it_cannot_be_bought(client, market, make_product,
                                                                  make_organization):
    sold_out = make_product(market.canal, title="Vélo vendu", stock=0)
    no_slot = make_product(make_organization(name="Sans créneau"), title="Table", stock=2)
    db.session.commit()
    assert "add-to-cart" not in text(client.get(product_url(sold_out)))
    page = text(client.get(product_url(no_slot)))
    assert "add-to-cart" not in page
    assert "the seller has no pickup slot open in the coming days" in page


def test_visitor_adds_changes_and_removes_lines(client, market):
    response = add_to_cart(client, market.lamp, 2)
    assert response.status_code == 302
    assert where(response) == product_path(market.lamp)
    assert "“Lampe de bureau” was added to your cart." in text(client.get(where(response)))
    add_to_cart(client, market.bowl)
    assert cart_lines() == {"Lampe de bureau": 2, "Bol en céramique": 1}

    page = text(client.get("/cart"))
    page = page[page.index("<h1>"):]  # after the flashed messages
    # Grouped by seller, with subtotals and the total.
    assert page.index("Ressourcerie du Canal") < page.index("Lampe de bureau") < page.index(
        "Atelier de la Loire") < page.index("Bol en céramique")
    assert "Subtotal: €30.00" in page and "Subtotal: €12.50" in page and "Total: €42.50" in page
    assert 'href="/checkout"' in page
    assert '<span class="badge" aria-hidden="true">3</span>' in text(client.get("/"))  # header

    response = client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 1})
    assert where(response) == "/cart"
    assert cart_lines() == {"Lampe de bureau": 1, "Bol en céramique": 1}
    client.post(f"/cart/lines/{market.bowl.id}", data={"quantity": 0})
    assert cart_lines() == {"Lampe de bureau": 1}
    client.post(f"/cart/lines/{market.lamp.id}/remove")
    assert cart_lines() == {}

    page = text(client.get("/cart"))
    assert "Your cart is empty." in page and 'href="/products"' in page
    assert 'class="badge"' not in page


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("0", "Choose a quantity between 1 and 99."), ("abc", "Choose a quantity between 1 and 99."),
     ("", "Please enter a quantity.")],
)
def test_bad_quantity_is_refused_with_a_message(client, market, quantity, message):
    response = client.post("/cart/add", data={"product_id": market.lamp.id, "quantity": quantity})
    assert response.status_code == 302
    assert message in text(client.get(where(response)))
    assert cart_lines() == {}


def test_sold_out_archived_and_unknown_products_are_refused(client, market, make_product):
    sold_out = make_product(market.canal, title="Vélo vendu", stock=0)
    db.session.commit()
    response = add_to_cart(client, sold_out)
    assert "Sorry, this product is out of stock." in text(client.get(where(response)))

    catalog.set_status(market.bowl, ProductStatus.ARCHIVED, by=None)
    db.session.commit()
    for product_id in (market.bowl.id, 999999, "x"):
        response = client.post("/cart/add", data={"product_id": product_id, "quantity": 1})
        assert where(response) == "/products"
        assert "This product is no longer for sale." in text(client.get("/products"))
    assert cart_lines() == {}


def test_more_than_the_stock_is_capped_and_said(client, market):
    response = add_to_cart(client, market.lamp, 5)
    page = text(client.get(where(response)))
    assert "Only 3 of “Lampe de bureau” are available: your cart holds 3." in page
    assert cart_lines() == {"Lampe de bureau": 3}


def test_changing_a_line_that_is_not_in_the_cart_is_refused(client, market):
    response = client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 2})
    assert "This product is not in your cart." in text(client.get(where(response)))
    response = client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 500})
    assert "Choose a quantity between 0 and 99." in text(client.get(where(response)))


def test_archived_and_sold_out_lines_are_flagged_and_block_the_checkout(client, market):
    add_to_cart(client, market.lamp, 3)
    add_to_cart(client, market.bowl, 2)
    add_to_cart(client, market.jam, 1)
    catalog.set_status(market.bowl, ProductStatus.ARCHIVED, by=None)
    catalog.adjust_stock(market.lamp, delta=-2, reason=StockReason.MANUAL, by=None)
    db.session.commit()

    page = text(client.get("/cart"))
    assert "Only 1 left: lower the quantity to continue." in page
    assert "This product is no longer for sale: remove it to continue." in page
    assert "Bol en céramique" in page  # shown, never dropped
    assert 'href="/checkout"' not in page
    assert "Fix the lines marked above to continue." in page

    response = client.get("/checkout")
    assert where(response) == "/cart"
    assert "Some lines of your cart need your attention first." in text(client.get("/cart"))

    client.post(f"/cart/lines/{market.lamp.id}", data={"quantity": 1})
    client.post(f"/cart/lines/{market.bowl.id}/remove")
    page = text(client.get("/cart"))
    assert 'href="/checkout"' in page and "to continue." not in page
    assert client.get("/checkout").status_code == 200


def test_sold_out_line_is_flagged(client, market):
    add_to_cart(client, market.lamp, 1)
    catalog.adjust_stock(market.lamp, delta=-3, reason=StockReason.MANUAL, by=None)
    db.session.commit()
    page = text(client.get("/cart"))
    assert "Out of stock: remove it to continue." in page
    assert 'href="/checkout"' not in page


def test_visitor_cart_is_merged_into_the_account_at_login(client, market, make_user):
    user = make_user(email="camille@example.org")
    mine = carts.current_cart(user, create=True)
    carts.add(mine, market.lamp, 1)
    db.session.commit()

    add_to_cart(client, market.lamp, 1)
    add_to_cart(client, market.bowl, 2)
    log_in(client, user)

    db.session.expire_all()
    assert {line.product.title: line.quantity for line in carts.current_cart(user).lines} == {
        "Lampe de bureau": 2, "Bol en céramique": 2,
    }
    assert db.session.scalar(db.select(db.func.count(Cart.id))) == 1  # the visitor's is gone
    page = text(client.get("/cart"))
    assert "Lampe de bureau" in page and "Bol en céramique" in page
    assert '<span class="badge" aria-hidden="true">4</span>' in page


def test_logged_in_cart_follows_the_account(client, login, market, make_user):
    user = login(make_user())
    add_to_cart(client, market.bowl, 1)
    db.session.expire_all()
    assert [line.product_id for line in carts.current_cart(user).lines] == [market.bowl.id]


def test_cart_forms_carry_csrf_tokens_and_labels(make_app, market):
    client = make_app(WTF_CSRF_ENABLED=True, BABEL_DEFAULT_LOCALE="en").test_client()
    page = text(client.get(product_url(market.lamp)))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/cart/add", data={"product_id": market.lamp.id, "quantity": 1, "csrf_token": token})
    page = text(client.get("/cart"))
    assert page.count('method="post"') == page.count('name="csrf_token"')
    assert (f'<label for="quantity-{market.lamp.id}"><span aria-hidden="true">Quantity</span>'
            '<span class="visually-hidden">Quantity of “Lampe de bureau”</span></label>') in page
    assert "style=" not in page  # nothing inline (the CSP allows only the site's files)
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)
    # Without its token, nothing changes.
    assert client.post(f"/cart/lines/{market.lamp.id}/remove").status_code == 400
    assert cart_lines() == {"Lampe de bureau": 1}
