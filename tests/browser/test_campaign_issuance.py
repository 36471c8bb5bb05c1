"""The campaign page follows the issuance of its cards: while the job runs, the bar and its
sentence are updated without reloading (static/js/campaign_issuance.js), and the page reloads
once every card is issued (Playwright driving Debian's Chromium, headless)."""
from __future__ import annotations

import os

import pytest

from marketplace import uow
from marketplace.campaigns import issuance
from marketplace.campaigns.models import Campaign
from marketplace.db import db
from tests import factories
from tests.browser.conftest import CHROMIUM
from tests.campaigns.helpers import paid_campaign, works_council

pytestmark = pytest.mark.english

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def test_the_campaign_page_follows_the_issuance_then_shows_every_card_issued(live, browser):
    app, base = live
    officer, cse = works_council()
    campaign = paid_campaign(officer, cse, 6)
    db.session.commit()  # paid, the job not run: this session ends without a unit's commit
    campaign_id, url = campaign.id, f"{base}/orgs/{cse.id}/campaigns/{campaign.id}"
    db.session.remove()

    page = browser.new_context(locale="en-GB").new_page()
    page.set_default_timeout(15000)
    page.goto(base + "/login")
    page.get_by_label("Email").fill("nadia@cse-exemple.fr")
    page.get_by_label("Password").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(url)

    status = page.get_by_role("status").filter(has_text="cards issued")
    sync_api.expect(status).to_have_text("0 of 6 cards issued (0 %)…")
    sync_api.expect(page.get_by_role("link", name="Refresh")).to_be_hidden()  # the script runs

    with uow.unit():  # the job, as the worker would run it
        issuance.issue_cards(db.session.get(Campaign, campaign_id), batch=2)

    sync_api.expect(page.get_by_text("All 6 cards are issued.")).to_be_visible()
    assert page.locator("#issuance-bar").evaluate("bar => [bar.value, bar.max]") == [6, 6]
    sync_api.expect(page.locator(".badge")).to_have_text("Cards issued")  # the page reloaded
    sync_api.expect(page.locator("#issuance[data-progress-url]")).to_have_count(0)  # no polling
