"""A counter volunteer logs in on a phone and lands on the counter, which shows today's pickups:
who comes in today's slot, what is still to hand over, what was collected and when (Playwright
driving Debian's Chromium, headless)."""
from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

from marketplace.db import db
from tests.factories import DEFAULT_PASSWORD
from tests.vouchers.test_todays_pickups import build_day

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


def test_a_counter_volunteer_logs_in_and_lands_on_todays_pickups(live, browser):
    app, base = live
    with app.test_request_context():  # the payment page's URLs are built in a request
        shop = build_day()
    email, org_id = shop.counter.email, shop.organization.id
    db.session.remove()

    phone = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}).new_page()
    phone.set_default_timeout(15000)
    phone.goto(base + "/login")
    phone.get_by_label("Email").fill(email)
    phone.get_by_label("Password").fill(DEFAULT_PASSWORD)
    phone.get_by_role("button", name="Log in").click()

    sync_api.expect(phone).to_have_url(f"{base}/orgs/{org_id}/counter")
    assert phone.locator("#q").evaluate("el => el === document.activeElement")  # ready to scan
    today = phone.get_by_role("region", name="Today's pickups")
    sync_api.expect(today).to_be_visible()
    sync_api.expect(today).to_contain_text("10:00 to 12:00")
    sync_api.expect(today).to_contain_text("1 order to collect")
    bob = today.get_by_role("row").filter(has_text="Bob Martin")
    sync_api.expect(bob).to_contain_text("1 × Lampe de bureau")
    sync_api.expect(bob).to_contain_text("To collect")
    ada = today.get_by_role("row").filter(has_text="Ada Lovelace")
    sync_api.expect(ada).to_contain_text("2 × Lampe de bureau")
    sync_api.expect(ada).to_contain_text("Handed over at 10:02 by Lucie Moreau")
    sync_api.expect(today).not_to_contain_text("Chloé Tomorrow")
    sync_api.expect(today).not_to_contain_text("Dora Elsewhere")
