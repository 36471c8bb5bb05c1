"""A customer unsubscribes from a seller's messages with the link of the email (no login), on
a phone (390 px) and on a laptop, in French: the page asks for one click, then confirms; the
seller's next message does not reach them."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.consent import messages
from marketplace.consent.models import MarketingConsent
from marketplace.db import db
from tests.browser.conftest import CHROMIUM
from tests.factories import make_organization

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

pytest.importorskip("playwright.sync_api")

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots-consent"))
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def send_message(app, organization, emails) -> list:
    """Each address agreed at checkout; the seller writes to them: the emails sent."""
    for email in emails:
        db.session.add(MarketingConsent(organization_id=organization.id, email=email,
                                        name="Camille", wording="…", locale="fr"))
    db.session.commit()
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    with uow.unit():
        messages.queue_message(organization, subject="Portes ouvertes samedi",
                               body="Venez découvrir nos lampes réparées.")
    return list(mailman.outbox)


def test_unsubscribe_with_the_link_of_the_email(live, browser):
    app, base = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    seller = make_organization(name="Ressourcerie du Canal", town="Lyon", postcode="69003")
    sent = send_message(app, seller, ["camille@example.org", "lea@example.org"])
    assert len(sent) == 2
    for viewport, who in ((PHONE, "camille@example.org"), (LAPTOP, "lea@example.org")):
        mail = next(m for m in sent if m.to == [who])
        (link,) = re.findall(r"https?://\S+/unsubscribe/\S+", mail.body)
        assert link.startswith(base)
        page = browser.new_context(viewport=viewport, locale="fr-FR").new_page()
        page.set_default_timeout(15000)
        page.goto(link)
        assert page.locator("h1").inner_text() == "Messages du vendeur Ressourcerie du Canal"
        page.screenshot(path=str(SHOTS / f"unsubscribe-ask-{viewport['width']}.png"),
                        full_page=True)
        page.get_by_role("button", name="Me désinscrire").click()
        notice = page.get_by_role("status")
        assert "vous êtes désinscrit" in notice.inner_text()
        assert who in notice.inner_text()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= viewport["width"]  # nothing wider than the screen
        page.screenshot(path=str(SHOTS / f"unsubscribe-done-{viewport['width']}.png"),
                        full_page=True)
        page.context.close()

    db.session.expire_all()
    assert {(c.email, c.withdrawn_how) for c in db.session.scalars(sa.select(MarketingConsent))} \
        == {("camille@example.org", "link"), ("lea@example.org", "link")}
