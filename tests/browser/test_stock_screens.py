"""A ressourcerie's manager, on a phone (390 px): imports a spreadsheet whose mistakes the
preview names line by line, then a right one; then counts the shelves in a stock-take (a count
typed and saved at once, a reference scanned by a handheld scanner), reloads the page as if on
another device, and confirms (Playwright driving Debian's Chromium, headless). Screenshots go to
$SCREENSHOT_DIR when it is set."""
from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Product, StockMovement, StockReason
from marketplace.db import db
from marketplace.organizations.models import Role
from tests import factories
from tests.factories import DEFAULT_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

if not os.path.exists(CHROMIUM):  # CI installs it (.ci/run) and says so with REQUIRE_BROWSER
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Debian's chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

WRONG = ("Référence;Titre;Catégorie;Prix (€);TVA (%);Stock;EAN\r\n"
         "BOL-1;Bol en grès;Cuisine et vaisselle;4,50;20;3;\r\n"
         "BOL-2;Bol à café;Vaisselle de luxe;quatre;19,6;-1;4006381333932\r\n"
         "BOL-1;;Cuisine et vaisselle;3;20;1;\r\n")
RIGHT = ("Référence;Titre;Catégorie;Prix (€);TVA (%);Stock;EAN\r\n"
         "BOL-1;Bol en grès;Cuisine et vaisselle;4,50;20;3;\r\n"
         "BOL-2;Bol à café;Cuisine et vaisselle;3,00;20;5;4006381333931\r\n")


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_import_then_stock_take_on_a_phone(live, browser, tmp_path):
    app, base = live
    manager = factories.make_user(name="Karim Benali")
    seller = factories.make_organization(name="Ressourcerie La Trouvaille",
                                         members={Role.MANAGER: manager})
    db.session.commit()
    email, org_id = manager.email, seller.id
    db.session.remove()

    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}).new_page()
    phone.set_default_timeout(15000)
    phone.goto(base + "/login")
    phone.locator("input[name=email]").fill(email)
    phone.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    with phone.expect_navigation():
        phone.locator("input[name=password]").press("Enter")

    phone.goto(f"{base}/orgs/{org_id}/products")
    phone.get_by_role("link", name="Importer un tableau").click()
    wrong, right = tmp_path / "produits.csv", tmp_path / "produits-corrige.csv"
    wrong.write_bytes(WRONG.encode("cp1252"))
    right.write_bytes(RIGHT.encode("utf-8-sig"))
    phone.locator("input[name=spreadsheet]").set_input_files(str(wrong))
    phone.get_by_role("button", name="Lire le fichier").click()
    problems = phone.locator(".import-problems")
    sync_api.expect(problems).to_contain_text("Ligne 3 (BOL-2)\u00a0: La catégorie «\u00a0Vaisselle de luxe\u00a0» n'existe pas")
    sync_api.expect(problems).to_contain_text("Ligne 4 (BOL-1)\u00a0: Le titre manque.")
    sync_api.expect(phone.get_by_role("button", name="Appliquer l'import")).to_have_count(0)
    shot(phone, "import-preview-errors-390.png")
    phone.set_viewport_size({"width": 1280, "height": 800})
    shot(phone, "import-preview-errors-1280.png")
    phone.set_viewport_size({"width": 390, "height": 844})

    phone.get_by_role("link", name="Envoyer un fichier corrigé").click()
    phone.locator("input[name=spreadsheet]").set_input_files(str(right))
    phone.get_by_role("button", name="Lire le fichier").click()
    sync_api.expect(phone.locator(".import-changes")).to_contain_text("Nouveau produit")
    shot(phone, "import-preview-390.png")
    phone.get_by_role("button", name="Appliquer l'import").click()
    sync_api.expect(phone.locator("body")).to_contain_text("Import terminé")

    phone.goto(f"{base}/orgs/{org_id}/products")
    phone.get_by_role("link", name="Inventaire").click()
    phone.get_by_role("button", name="Commencer un inventaire").click()
    with app.app_context():
        bowl, cup = db.session.scalars(sa.select(Product).where(
            Product.organization_id == org_id).order_by(Product.reference)).all()
        bowl_id, cup_id = bowl.id, cup.id
        db.session.remove()
    field = phone.locator(f"#counted-{bowl_id}")
    field.fill("2")
    field.press("Tab")  # saved as soon as the field is left
    sync_api.expect(phone.locator(f"#product-{bowl_id} .count-status")).to_have_text("Enregistré.")
    scan = phone.locator("#q")
    for _ in range(6):  # a handheld scanner types the EAN and Enter, faster than the answers
        scan.fill("4006381333931")
        scan.press("Enter")
    sync_api.expect(phone.locator("#express-result")).to_contain_text(": 6 compté")
    sync_api.expect(phone.locator(f"#counted-{cup_id}")).to_have_value("6")
    scan.fill("4006381333932")
    scan.press("Enter")
    sync_api.expect(phone.locator("#express-result")).to_contain_text("mal lu")

    phone.reload()  # another device, later: nothing lost
    sync_api.expect(phone.locator(f"#counted-{bowl_id}")).to_have_value("2")
    sync_api.expect(phone.locator(f"#counted-{cup_id}")).to_have_value("6")
    sync_api.expect(phone.get_by_role("region", name="Écarts à valider")).to_contain_text("(-1)")
    shot(phone, "stock-take-390.png")
    phone.set_viewport_size({"width": 1280, "height": 800})
    shot(phone, "stock-take-1280.png")
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.get_by_role("button", name="Valider les écarts").click()
    sync_api.expect(phone.locator("body")).to_contain_text("2 corrections de stock")

    with app.app_context():
        moves = db.session.execute(sa.select(StockMovement.product_id, StockMovement.delta)
                                   .where(StockMovement.reason == StockReason.STOCK_TAKE)).all()
        assert sorted(moves) == sorted([(bowl_id, -1), (cup_id, 1)])
        db.session.remove()
