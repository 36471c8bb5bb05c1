"""What a shopper sees on a phone (390 × 844, an iPhone 14) and on a laptop (1280 px), in
French: the products come before the filters, the pickup date of an order reads on one or two
lines, and a table that scrolls sideways can be reached with the keyboard."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.pickup.models import PickupLocation
from tests.browser.conftest import CHROMIUM
from tests.factories import make_organization, make_product
from tests.payments.helpers import make_seller, place_order

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def open_page(browser, viewport: dict):
    page = browser.new_context(viewport=viewport, locale="fr-FR").new_page()
    page.set_default_timeout(15000)
    return page


def bike_shop() -> None:
    shop = make_organization(name="Atelier vélo La Roue Libre", town="Grenoble", postcode="38000")
    for title, category in (("Vélo de ville révisé", "mobility-bikes"), ("Vélo enfant 20 pouces", "mobility-bikes"),
                            ("Antivol en U", "mobility-parts"), ("Sacoche de porte-bagages", "mobility-parts"),
                            ("Casque vélo adulte", "mobility-parts"), ("Chambre à air 700 × 35", "mobility-parts")):
        make_product(shop, title=title, category_slug=category)
    db.session.commit()
    db.session.remove()


def test_on_a_phone_the_products_come_before_the_filters(live, browser):
    app, base = live
    bike_shop()

    phone = open_page(browser, PHONE)
    phone.goto(base + "/products?category=mobility")
    first_card = phone.locator(".product-card").first
    box = first_card.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box  # the whole card, without scrolling
    assert not phone.locator("#filter-q").is_visible()
    toggle = phone.locator("summary", has_text="Filtrer")
    assert "1 filtre actif" in toggle.inner_text()  # the category chosen from the home page
    toggle.click()
    assert phone.locator("#filter-q").is_visible()
    assert phone.locator("#filter-category").input_value() == "mobility"

    # A value the page could not use: the filters open on its message.
    phone.goto(base + "/products?category=mobility&min_price=douze")
    assert phone.locator("#filter-min-price").is_visible()

    laptop = open_page(browser, LAPTOP)
    laptop.goto(base + "/products?category=mobility")
    assert laptop.locator("#filter-q").is_visible()  # room enough: open without a click
    assert laptop.locator(".product-card").first.is_visible()


def test_the_pickup_date_of_a_paid_order_reads_on_a_phone(live, browser):
    app, base = live
    seller = make_seller("Atelier vélo La Roue Libre")
    location = db.session.scalar(sa.select(PickupLocation).where(
        PickupLocation.organization_id == seller.organization.id))
    location.instructions = "Au fond de la cour, sous le préau, la porte verte à gauche."
    lamp = make_product(seller.organization, title="Chambre à air 700 × 35", stock=5)
    db.session.commit()
    with app.test_request_context():  # the payment page's URLs are built in a request
        order = place_order([(lamp, 1)], locale="fr")
        session = payments.start_payment(order)
        db.session.commit()
    DemoGateway().complete(session.id)
    db.session.commit()
    db.session.remove()

    for viewport in (PHONE, LAPTOP):
        page = open_page(browser, viewport)
        page.goto(f"{base}/checkout/success?session_id={session.id}")
        assert "Merci" in page.locator("h1").inner_text()
        when = page.locator(".order-part time").first
        lines = when.evaluate("el => el.getClientRects().length")  # one box per line of text
        assert lines <= 2, (viewport, lines, when.inner_text())
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= viewport["width"]  # nothing wider than the screen


# An element whose content is wider than it and that scrolls must be reachable with the keyboard
# (it, or something inside it, takes the focus): axe's rule "scrollable-region-focusable".
SCROLLABLE_WITHOUT_KEYBOARD = """
() => [...document.querySelectorAll("body *")].filter(el => {
  const style = getComputedStyle(el);
  const scrolls = (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth)
    || (["auto", "scroll"].includes(style.overflowY) && el.scrollHeight > el.clientHeight);
  if (!scrolls) return false;
  const focusable = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";
  return !(el.tabIndex >= 0 && el.hasAttribute("tabindex")) && !el.querySelector(focusable);
}).map(el => el.outerHTML.slice(0, 120))
"""


def test_the_gift_card_history_can_be_scrolled_with_the_keyboard(live, browser):
    app, base = live
    grocery = make_organization(name="Épicerie solidaire Le Panier Partagé", town="Nantes", postcode="44000")
    card = cards.issue(5000, buyer_email="camille@example.org")
    db.session.flush()
    for amount, nonce in ((1250, "one"), (990, "two")):
        cards.redeem(card.id, amount, organization=grocery, nonce=nonce)
    db.session.commit()
    code = card.code
    db.session.remove()

    for viewport in (PHONE, LAPTOP):
        page = open_page(browser, viewport)
        page.goto(f"{base}/cards/{code}")
        assert page.evaluate(SCROLLABLE_WITHOUT_KEYBOARD) == [], viewport
        history = page.get_by_role("region", name="Historique de la carte, du plus récent au plus ancien")
        assert history.get_attribute("tabindex") == "0"
        assert history.locator("table").is_visible()
        # Tab order: the region is reached after the card's links and buttons.
        history.focus()
        assert history.evaluate("el => el === document.activeElement")


def test_the_hand_written_check_finds_a_scrollable_region_out_of_reach(live, browser):
    """The check above is not blind: a scrolling box with text only is reported."""
    app, base = live
    page = open_page(browser, PHONE)
    page.goto(base + "/")
    page.evaluate("""() => {  // through the CSSOM: the CSP refuses style attributes
        const box = document.createElement("div"), line = document.createElement("p");
        box.style.cssText = "overflow-x: auto; width: 100px";
        line.style.cssText = "width: 400px";
        line.textContent = "Une très longue ligne de texte";
        box.append(line);
        document.querySelector("main").append(box);
    }""")
    assert len(page.evaluate(SCROLLABLE_WITHOUT_KEYBOARD)) == 1
