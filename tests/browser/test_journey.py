"""The whole pickup journey in a real browser (Playwright driving Debian's Chromium, headless):
a shopper buys through the demo gateway and opens the voucher; a counter volunteer logs in,
types the code and hands the goods over; the shopper's order then shows as collected."""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

from marketplace.db import db
from tests.factories import DEFAULT_PASSWORD, make_product
from tests.vouchers.helpers import make_shop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.english

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live(make_app):
    """The app served over HTTP from a thread, with CSRF on, as a browser meets it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(SERVER_NAME=None, SERVER_BASE_URL=base, WTF_CSRF_ENABLED=True,
                   STRIPE_SECRET_KEY=None, RATELIMIT_ENABLED=False)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with app.app_context():
            yield app, base
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


def test_buy_show_the_voucher_collect_at_the_counter(live, browser):
    app, base = live
    shop = make_shop("Ressourcerie du Canal")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=3)
    db.session.commit()
    with app.test_request_context():
        from marketplace.catalog.views import product_url

        lamp_path = product_url(lamp)
    counter_email, org_id = shop.counter.email, shop.organization.id
    db.session.remove()

    shopper = browser.new_context(locale="en-GB").new_page()
    shopper.set_default_timeout(15000)
    shopper.goto(base + lamp_path)
    shopper.get_by_role("button", name="Add to cart").click()
    shopper.goto(base + "/checkout")
    shopper.get_by_label("Name", exact=False).first.fill("Ada Lovelace")
    shopper.get_by_label("Email address").fill("ada@example.org")
    shopper.locator("input[type=radio]").first.check()
    shopper.locator("#accept_terms").check()
    shopper.get_by_role("button", name="Go to payment").click()
    shopper.get_by_role("button", name=re.compile(r"^Pay ")).click()
    shopper.get_by_role("link", name="See my order").click()
    shopper.get_by_role("link", name="Open the voucher").click()
    code = shopper.locator(".voucher-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    shopper.go_back()
    order_url = shopper.url

    counter = open_counter(browser, base, counter_email, org_id)
    field = counter.locator("#q")
    assert field.evaluate("el => el === document.activeElement")  # ready for a scanner
    field.fill(code.lower().replace("-", " "))
    field.press("Enter")
    sync_api.expect(counter.get_by_text("Ada Lovelace").first).to_be_visible()
    sync_api.expect(counter.get_by_text("1 × Lampe de bureau").first).to_be_visible()
    counter.locator("button.counter-collect").click()
    sync_api.expect(counter.get_by_text("1 line handed over to Ada Lovelace")).to_be_visible()

    shopper.goto(order_url)
    assert "Collected" in shopper.locator("h1").inner_text()


def test_express_mode_redeems_each_scan_at_once(live, browser):
    from tests.vouchers.helpers import paid_order, voucher_of

    app, base = live
    shop = make_shop("Ressourcerie du Canal")
    chair = make_product(shop.organization, title="Chaise en bois", stock=3)
    with app.test_request_context():  # the payment page's URLs are built in a request
        order = paid_order([(chair, 1)])
    code, counter_email, org_id = voucher_of(order.parts[0]).code, shop.counter.email, shop.organization.id
    db.session.remove()

    counter = open_counter(browser, base, counter_email, org_id)
    counter.get_by_label("Express: hand everything over as soon as it is scanned").check()
    counter.locator("#q").fill(code)
    counter.locator("#q").press("Enter")
    result = counter.locator("#express-result")
    sync_api.expect(result).to_contain_text("Collected: hand over the goods to Camille Martin")
    sync_api.expect(result).to_contain_text("1 × Chaise en bois")
    assert counter.locator("#q").input_value() == ""  # ready for the next scan
    counter.locator("#q").fill(code)
    counter.locator("#q").press("Enter")
    sync_api.expect(result).to_contain_text("Already collected on")


def open_counter(browser, base: str, email: str, org_id: int):
    """A counter volunteer's phone: logged in through the form, on the counter page."""
    counter = browser.new_context(locale="en-GB").new_page()
    counter.set_default_timeout(15000)
    counter.goto(base + "/login")
    counter.get_by_label("Email").fill(email)
    counter.get_by_label("Password").fill(DEFAULT_PASSWORD)
    counter.get_by_role("button", name="Log in").click()
    counter.goto(f"{base}/orgs/{org_id}/counter")
    return counter


def test_a_card_payment_at_the_counter_puts_the_card_away(live, browser):
    """After a debit, nothing typed next can go to the same card: the result is shown, the card
    put away and the scan field focused. A purchase larger than the balance takes it whole."""
    from tests.giftcards.helpers import make_card, make_seller_with_counter

    app, base = live
    organization, volunteer, _ = make_seller_with_counter()
    card = make_card(5000)
    code, last4 = card.display_code, card.code[-4:]
    email, org_id = volunteer.email, organization.id
    db.session.remove()

    counter = open_counter(browser, base, email, org_id)
    counter.goto(f"{base}/orgs/{org_id}/counter/cards")
    assert counter.get_by_role("button", name="Use the camera").is_visible()
    field = counter.locator("#q")
    assert field.evaluate("el => el === document.activeElement")
    field.fill(code.lower())
    field.press("Enter")
    amount = counter.locator("#amount")
    sync_api.expect(amount).to_be_focused()
    amount.fill("12,50")
    amount.press("Enter")
    result = counter.get_by_role("status").filter(has_text="Paid")
    sync_api.expect(result).to_contain_text("Paid €12.50 with the card")
    sync_api.expect(result).to_contain_text(last4)
    sync_api.expect(result).to_contain_text("Left on the card: €37.50.")
    assert counter.locator("#amount").count() == 0  # the card is put away
    sync_api.expect(counter.locator("#q")).to_be_focused()
    counter.keyboard.type("20")  # the next amount typed by habit goes to no card
    assert counter.locator("#q").input_value() == "20"

    counter.locator("#q").fill(code)
    counter.locator("#q").press("Enter")
    counter.locator("#amount").fill("45")
    counter.locator("#amount").press("Enter")
    sync_api.expect(counter.get_by_role("alert")).to_contain_text(
        "The purchase is €45.00 and the card has €37.50 left.")
    counter.get_by_role("button", name="Use the whole balance (€37.50)").click()
    result = counter.get_by_role("status").filter(has_text="Paid")
    sync_api.expect(result).to_contain_text("Paid €37.50 with the card")
    sync_api.expect(result).to_contain_text("Still to pay by other means: €7.50.")
    sync_api.expect(counter.locator("#q")).to_be_focused()
