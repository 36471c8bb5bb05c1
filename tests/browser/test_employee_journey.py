"""An employee's works-council card in a real browser on a phone (Playwright driving Debian's
Chromium, headless, 390 px wide): the campaign's card is sent through campaigns.sending and the
employee opens the link of that email; the card page says where to spend it (the bookshop that
the Christmas card allows, near the postcode typed, with click-and-collect); the employee pays a
book at checkout with the card (it goes through), then a spinning top (the card is refused, its
reason shown, nothing is ordered); at the bookshop's counter a volunteer types the code, says
that a book is being bought and takes part of the balance. The balance is checked on the card
page after each step. Screenshots go to /tmp/shots-employee/ (390 px, and the card page at
1280 px)."""
from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.db import db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path("/tmp/shots-employee")
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.english

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _sent_card_link(app) -> tuple[str, str]:
    """A Christmas campaign of one card of 50 €, spent on books only, issued and sent through
    campaigns.sending: (the card page's link in the email, the card's code)."""
    from marketplace import uow
    from marketplace.campaigns import sending, services
    from marketplace.campaigns.models import AmountMode, Beneficiary, CampaignEvent, UnspentPolicy
    from tests.campaigns.helpers import issued_campaign, works_council

    officer, cse = works_council()
    today = sending.local_today()
    campaign = services.create_campaign(cse, services.CampaignSettings(
        name="Noël", event=CampaignEvent.CHRISTMAS, year=today.year, send_on=today,
        validity_months=12, amount_mode=AmountMode.SAME, amount_cents=5000,
        unspent_policy=UnspentPolicy.CREDIT, category_slugs={"books"}),
        by=officer, today=date(today.year, 1, 1))
    db.session.commit()
    issued_campaign(campaign, count=1)
    outbox = app.extensions["mailman"].outbox = []
    with uow.unit():
        assert sending.send_due(today=today) == 1
    (email,) = [message for message in outbox if message.to == ["employee0@example.org"]]
    link = re.search(r"https?://\S+/cards/[0-9A-Z]{16}", email.body).group(0)
    beneficiary = db.session.scalar(sa.select(Beneficiary).where(
        Beneficiary.campaign_id == campaign.id))
    assert beneficiary.sent_at is not None
    return link, beneficiary.card.code


def _balance(page, link: str) -> str:
    page.goto(link)
    return page.locator(".voucher-seller").inner_text()


def test_an_employee_spends_a_works_council_card_online_and_at_the_counter(live, browser):
    from marketplace.catalog.views import product_url
    from tests.factories import DEFAULT_PASSWORD, make_product
    from tests.vouchers.helpers import make_shop

    app, base = live
    shop = make_shop("Librairie du Canal")  # click-and-collect in Lyon 3e (69003)
    make_product(shop.organization, title="Le Petit Prince", price_cents=1550, stock=3,
                 category_slug="books")  # found through "where to spend"
    top = make_product(shop.organization, title="Toupie en bois", price_cents=1200, stock=3,
                       category_slug="toys")
    db.session.commit()
    with app.test_request_context():
        top_path = product_url(top)
    link, code = _sent_card_link(app)
    counter_email, org_id = shop.counter.email, shop.organization.id
    db.session.remove()

    phone = browser.new_context(viewport=PHONE, locale="en-GB", device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    employee = phone.new_page()
    employee.set_default_timeout(15000)

    # The email's link: the card, its balance, and where to spend it.
    employee.goto(link)
    assert employee.locator(".voucher-seller").inner_text() == "Balance: €50.00"
    expect(employee.locator(".card-restriction")).to_contain_text("Christmas purchases: books")
    where = employee.locator("section.where-to-spend")
    expect(where.get_by_role("heading", name="Where to spend it")).to_be_visible()
    where.get_by_label("Near (postcode or town)").fill("69003")
    where.get_by_role("button", name="Find sellers").click()
    where = employee.locator("section.where-to-spend")
    place = where.locator("li.place").filter(has_text="Librairie du Canal")
    expect(place).to_contain_text("same postcode")
    expect(place).to_contain_text("Click-and-collect")
    expect(place.get_by_role("link", name="Le Petit Prince")).to_be_visible()
    assert where.get_by_text("Toupie en bois").count() == 0  # not what the card pays for
    _shot(employee, "1-card-page-390")
    assert _no_sideways_scroll(employee)

    # At checkout: the book goes through, paid by the card alone.
    place.get_by_role("link", name="Le Petit Prince").click()
    employee.get_by_role("button", name="Add to cart").click()
    _checkout(employee, base, code)
    expect(employee.locator("h1")).to_contain_text("Order")
    assert _balance(employee, link) == "Balance: €34.50"

    # A spinning top: the card refuses it and says why; nothing is ordered.
    employee.goto(base + "/cart")
    for remove in employee.get_by_role("button", name=re.compile("Remove")).all():
        remove.click()
    employee.goto(base + top_path)
    employee.get_by_role("button", name="Add to cart").click()
    _checkout(employee, base, code)
    refusal = employee.locator(".form-errors, [role=alert]").filter(has_text="works council")
    expect(refusal.first).to_contain_text(
        "This card from your works council is for Christmas purchases: books")
    _shot(employee, "2-checkout-refused-390")
    assert _no_sideways_scroll(employee)
    assert _balance(employee, link) == "Balance: €34.50"

    # At the bookshop's counter: the volunteer types the code, says a book is bought, takes 10 €.
    staff = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True,
                                has_touch=True).new_page()
    staff.set_default_timeout(15000)
    staff.goto(base + "/login")
    staff.get_by_label("Email").fill(counter_email)
    staff.get_by_label("Password").fill(DEFAULT_PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.goto(f"{base}/orgs/{org_id}/counter/cards")
    staff.locator("#q").fill(code.lower())
    staff.locator("#q").press("Enter")
    expect(staff.locator(".card-restriction")).to_contain_text("Christmas purchases: books")
    staff.get_by_label("What is being bought?").select_option(label="Something else")
    staff.locator("#amount").fill("5")
    staff.locator("#amount").press("Enter")
    expect(staff.get_by_role("alert").first).to_contain_text("Christmas purchases: books")
    assert _balance(employee, link) == "Balance: €34.50"  # refused: nothing taken

    staff.goto(f"{base}/orgs/{org_id}/counter/cards")
    staff.locator("#q").fill(code)
    staff.locator("#q").press("Enter")
    books = staff.locator("#category option").filter(has_text="Book").first.get_attribute("value")
    staff.get_by_label("What is being bought?").select_option(value=books)
    staff.locator("#amount").fill("10")
    _shot(staff, "3-counter-card-390")
    staff.locator("#amount").press("Enter")
    result = staff.get_by_role("status").filter(has_text="Paid")
    expect(result).to_contain_text("Paid €10.00 with the card")
    expect(result).to_contain_text("Left on the card: €24.50.")
    _shot(staff, "4-counter-paid-390")
    assert _no_sideways_scroll(staff)

    # The card page tells the whole story.
    assert _balance(employee, link) == "Balance: €24.50"
    history = employee.locator("#history-title + *")
    expect(history).to_contain_text("15.50")
    expect(history).to_contain_text("10.00")
    _shot(employee, "5-card-after-390")
    assert _no_sideways_scroll(employee)
    french = browser.new_context(viewport=PHONE, locale="fr-FR", device_scale_factor=2,
                                 is_mobile=True, has_touch=True).new_page()
    french.goto(link + "?near=Lyon")
    french.locator("#language").select_option("fr")
    french.locator("form.language-switch button").click()
    french.goto(link + "?near=Lyon")
    expect(french.locator("section.where-to-spend")).to_contain_text("Où la dépenser")
    expect(french.locator("li.place").first).to_contain_text("Retrait en boutique")
    _shot(french, "6-card-page-fr-390")
    assert _no_sideways_scroll(french)
    wide = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    wide.goto(link + "?near=Lyon")
    _shot(wide, "7-card-page-1280")


def _checkout(page, base: str, code: str) -> None:
    page.goto(base + "/checkout")
    page.get_by_label("Name", exact=False).first.fill("Prénom0 Nom0")
    page.get_by_label("Email address").fill("employee0@example.org")
    page.locator("input[type=radio]").first.check()
    page.locator("#gift_cards").fill(code)
    page.locator("#accept_terms").check()
    page.get_by_role("button", name="Go to payment").click()


def _no_sideways_scroll(page) -> bool:
    """Nothing wider than the phone's screen (no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
