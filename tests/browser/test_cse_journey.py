"""A works council's Christmas in a real browser (Playwright driving Debian's Chromium, headless,
in French as the demo officer reads it): the demo CSE officer creates a Christmas campaign,
uploads the spreadsheet of 30 employees that French Excel saves (CSV, Windows-1252, ";",
decimal comma) with two mistakes, fixes them in the page, gets the quote and accepts it paying
by transfer; the platform admin finds the pro-forma by the transfer's label and records the
transfer; the campaign is paid and its 30 cards exist. Screenshots of the campaign page with
the quote accepted, at 390 px and 1280 px, go to /tmp/shots-billing/."""
from __future__ import annotations

import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.i18n import local_today

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path("/tmp/shots-billing")

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

FIRST = ["Amélie", "Bruno", "Céline", "Damien", "Élise", "François", "Gaëlle", "Hélène", "Ismaël",
         "Jérôme"]
LAST = ["Arnaud", "Bérard", "Chevalier", "Dubois", "Écuyer", "Fournier", "Garnier", "Hébert"]


def spreadsheet() -> tuple[bytes, int, int]:
    """30 employees as French Excel saves them; line 6 has a bad email, line 12 an amount in
    words. Returns the file and the two lines at fault."""
    rows = ["Nom;Prénom;Courriel;Montant;Matricule;Nombre d'enfants;;"]
    for i in range(30):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        email = f"salarie.{i + 1}@atelier-textile.example"
        amount = "80,00" if i % 3 else "120,50"
        if i == 4:
            email = "gaelle.morel-at-atelier-textile.example"
        if i == 10:
            amount = "quatre-vingts"
        rows.append(f"{last};{first};{email};{amount};ATL-{500 + i};{i % 3};;")
    return ("\r\n".join(rows) + "\r\n").encode("cp1252"), 6, 12


def log_in(page, base: str, email: str) -> None:
    from marketplace.demo import DEMO_PASSWORD

    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form[action*='/login'] button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


def test_a_works_council_pays_its_christmas_campaign_by_transfer(live, browser):
    from marketplace.campaigns import services
    from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus
    from marketplace.organizations.models import Organization

    app, base = live
    today = local_today()  # the marketplace's day (Paris), not the machine's UTC date
    send_on = max(date(today.year, 12, 18), today + timedelta(days=10))
    if services.pmss_cents(send_on.year) is None:
        pytest.skip(f"the URSSAF limits of {send_on.year} are not in the settings yet")
    seeded = app.test_cli_runner().invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    cse_id = db.session.scalar(sa.select(Organization.id).where(
        Organization.slug == "cse-manufacture-lyonnaise"))
    db.session.remove()

    officer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    officer.set_default_timeout(20000)
    log_in(officer, base, "elodie.perrin@demo.ess-marche.fr")

    # The campaign: Christmas, an amount per employee (from the file).
    officer.goto(f"{base}/orgs/{cse_id}/campaigns/new")
    officer.locator("#name").fill(f"Noël {send_on.year} – atelier de Villeurbanne")
    officer.locator("#event").select_option("christmas")
    officer.locator("#year").select_option(str(send_on.year))
    officer.locator("#send_on").fill(send_on.isoformat())
    officer.locator("input[name=amount_mode][value=per_beneficiary]").check()
    officer.locator("form.form-narrow button[type=submit]").click()
    officer.wait_for_url("**/import")
    campaign_url = officer.url.removesuffix("/import")

    # The file, with its two mistakes named on their lines.
    data, bad_email_line, bad_amount_line = spreadsheet()
    officer.locator("input[type=file]").set_input_files(
        {"name": "salariés-noël.csv", "mimeType": "text/csv", "buffer": data})
    officer.locator("form[enctype] button[type=submit]").click()
    officer.wait_for_url("**/import/review")
    text = officer.locator("main").inner_text()
    assert "30 lignes lues" in text and "2 problèmes à corriger" in text
    plain = text.replace("\u00a0", " ").replace("\u202f", " ")
    assert "« gaelle.morel-at-atelier-textile.example » n'est pas une adresse e-mail valide" \
        in plain
    assert "Le montant « quatre-vingts » n'est pas un nombre d'euros" in plain

    line = officer.locator(f"article#line-{bad_email_line}")
    line.locator("input[name$='-email']").fill("gaelle.morel@atelier-textile.example")
    line.locator("button[type=submit]").first.click()
    officer.wait_for_load_state()
    line = officer.locator(f"article#line-{bad_amount_line}")
    line.locator("input[name$='-amount']").fill("80")
    line.locator("button[type=submit]").first.click()
    officer.wait_for_load_state()
    assert "Aucun problème" in officer.locator("main").inner_text()
    officer.locator("form[action$='/import/confirm'] button").click()
    officer.wait_for_load_state()

    # The quote, accepted with payment by transfer.
    officer.goto(campaign_url)
    officer.locator("form[action$='/quote'] button").click()
    officer.wait_for_load_state()
    assert "Devis DEV-" in officer.locator("main").inner_text()
    officer.locator("input[name=method][value=transfer]").check()
    officer.locator("form[action$='/quote/accept'] button[type=submit]").click()
    officer.wait_for_load_state()
    page_text = officer.locator("main").inner_text()
    assert "Le devis est accepté" in page_text
    assert "Nous attendons votre virement" in page_text
    reference = officer.locator("strong.reference").inner_text().strip()
    assert reference.startswith("RF")
    assert "Facture pro forma PF-" in page_text

    SHOTS.mkdir(exist_ok=True)
    officer.screenshot(path=str(SHOTS / "campaign-quote-accepted-1280.png"), full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                device_scale_factor=2).new_page()
    phone.set_default_timeout(20000)
    log_in(phone, base, "elodie.perrin@demo.ess-marche.fr")
    phone.goto(campaign_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SHOTS / "campaign-quote-accepted-390.png"), full_page=True)

    # The admin finds the pro-forma by the transfer's label and records the transfer.
    total = officer.locator("dd strong").first.inner_text().strip()
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(20000)
    log_in(admin, base, "admin@demo.ess-marche.fr")
    admin.goto(f"{base}/admin/invoicing/?q=VIR SEPA CSE MANUFACTURE {reference}")
    admin.get_by_role("link", name=re.compile(r"PF-\d{4}-\d{5}")).first.click()
    admin.wait_for_load_state()
    admin.locator("#transfer-amount").fill(total.replace("\u202f", " ").replace("\u00a0", " ")
                                           .removesuffix(" €"))
    admin.locator("#transfer-received_on").fill(today.isoformat())
    admin.locator("#transfer-bank_reference").fill(f"VIR SEPA CSE MANUFACTURE {reference}")
    admin.locator("form[action$='/transfers'] button[type=submit]").click()
    admin.wait_for_load_state()
    assert "Le virement est enregistré." in admin.locator("main").inner_text()

    officer.goto(campaign_url)
    assert "Votre paiement de" in officer.locator("main").inner_text()
    campaign_id = int(campaign_url.rsplit("/", 1)[1])
    db.session.remove()
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign.status in (CampaignStatus.PAID, CampaignStatus.ISSUED)
    cards = db.session.scalars(sa.select(Beneficiary.card_id).where(
        Beneficiary.campaign_id == campaign_id)).all()
    assert len(cards) == 30
    assert all(card_id is not None for card_id in cards)  # issued by campaigns.issuance
