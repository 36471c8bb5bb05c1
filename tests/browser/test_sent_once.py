"""A form is sent once: a double-click (or an impatient second tap on a slow phone network) on
a button that posts a form does not post it twice. Checked on the forms where a second post
would buy or list twice: a gift card put in the cart, a product added to the cart (which adds
units). Forms that a script sends itself (the counter's express scans, the stock-take's counts)
are left to their script: several scans in a row all count (tests/browser/test_stock_screens.py)."""
from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa
from flask import request

from marketplace.db import db
from tests.browser.conftest import CHROMIUM
from tests.factories import make_product
from tests.vouchers.helpers import make_shop

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.english


def slow_posts(app, seconds: float = 0.5) -> None:
    """Posts answered late, as on a phone's network: the second click lands while the first
    post is still being answered (and has reached the server)."""
    @app.before_request
    def wait():
        if request.method == "POST":
            time.sleep(seconds)


def click_twice(page, button) -> None:
    """Two clicks 0.15 s apart, the second while the first post is being answered."""
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)


def test_a_double_click_puts_one_gift_card_in_the_cart(live, browser):
    from marketplace.giftcards.models import CartCard

    app, base = live
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(base + "/cards/buy")
    page.get_by_role("button", name="Add to cart").dblclick()
    sync_api.expect(page.get_by_text("The gift card is in your cart.")).to_be_visible()
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartCard)) == 1


def test_a_double_click_adds_the_quantity_once(live, browser):
    from marketplace.orders.models import CartLine

    app, base = live
    shop = make_shop("Ressourcerie du Canal")  # with a pickup slot open
    lamp = make_product(shop.organization, title="Lampe de bureau", stock=5)
    db.session.commit()
    url = f"{base}/products/{lamp.id}"
    db.session.remove()
    slow_posts(app)
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(url)
    click_twice(page, page.get_by_role("button", name="Add to cart"))
    sync_api.expect(page.get_by_text("was added to your cart")).to_be_visible()
    db.session.remove()
    assert db.session.scalars(sa.select(CartLine.quantity)).all() == [1]
    # Once answered, the page is a new one: the same button adds again.
    page.get_by_role("button", name="Add to cart").click()
    sync_api.expect(page.get_by_text("was added to your cart")).to_be_visible()
    db.session.remove()
    assert db.session.scalars(sa.select(CartLine.quantity)).all() == [2]
