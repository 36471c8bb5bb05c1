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

sync_api = pytest.importorskip("playwright.sync_api")

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


def test_agree_at_checkout_then_the_seller_lists_and_previews(live, browser):
    """On a phone, in French: the shopper ticks the seller's box at checkout; the seller's
    manager finds them in "Clients" and previews a message."""
    from marketplace.organizations.models import Membership, Role
    from tests.factories import DEFAULT_PASSWORD, make_product, make_user
    from tests.payments.helpers import make_seller

    app, base = live
    seller = make_seller("Ressourcerie du Canal")
    lamp = make_product(seller.organization, title="Lampe de bureau", price_cents=1550, stock=3)
    manager = make_user(email="gerante@example.org", name="Karim Benali")
    db.session.add(Membership(organization=seller.organization, user=manager, role=Role.MANAGER))
    db.session.commit()
    org_id = seller.organization.id
    with app.test_request_context():
        from marketplace.catalog.views import product_url

        lamp_path = product_url(lamp)
    db.session.remove()

    page = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
    page.set_default_timeout(15000)
    page.goto(base + lamp_path)
    page.get_by_role("button", name="Ajouter au panier").click()
    page.goto(base + "/checkout")
    box = page.locator(f"#consent-{org_id}")
    assert not box.is_checked()  # never ticked for the shopper
    page.get_by_label("Votre nom").fill("Camille Martin")
    page.get_by_label("Adresse e-mail").fill("camille@example.org")
    page.locator("input[type=radio]").first.check()
    box.check()
    page.locator("#accept_terms").check()
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "checkout-consent-390.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Passer au paiement").click()
    page.wait_for_load_state()
    page.context.close()

    (consent,) = db.session.scalars(sa.select(MarketingConsent)).all()
    assert (consent.email, consent.locale, consent.method) == ("camille@example.org", "fr",
                                                               "checkout")
    assert consent.wording.startswith("J'accepte de recevoir par e-mail les actualités et offres "
                                      "du vendeur «\u00a0Ressourcerie du Canal\u00a0».")
    db.session.remove()

    for viewport in (PHONE, LAPTOP):
        staff = browser.new_context(viewport=viewport, locale="fr-FR").new_page()
        staff.set_default_timeout(15000)
        staff.goto(base + "/login")
        staff.get_by_label("Adresse e-mail").fill("gerante@example.org")
        staff.get_by_label("Mot de passe").fill(DEFAULT_PASSWORD)
        staff.get_by_role("button", name="Se connecter").click()
        staff.goto(f"{base}/orgs/{org_id}/")
        staff.get_by_role("link", name="Clients", exact=True).click()
        sync_api.expect(staff.get_by_role("cell", name="camille@example.org")).to_be_visible()
        staff.screenshot(path=str(SHOTS / f"customers-{viewport['width']}.png"), full_page=True)
        staff.get_by_role("link", name="Leur écrire").click()
        staff.get_by_label("Objet").fill("Portes ouvertes samedi")
        staff.get_by_label("Texte").fill("Venez découvrir nos lampes réparées.\nÀ samedi !")
        staff.get_by_role("button", name="Aperçu").click()
        assert staff.get_by_role("button", name="Envoyer à 1 client").is_visible()
        assert staff.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
        staff.screenshot(path=str(SHOTS / f"message-preview-{viewport['width']}.png"),
                         full_page=True)
        staff.context.close()
