"""A seller's products as a spreadsheet: every encoding and separator French offices produce,
XLSX, a ZIP of photos, a file full of mistakes each named on its line and nothing applied, and
an export imported back that changes nothing."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from flask import g
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from PIL import Image

from marketplace.catalog import product_import, search
from marketplace.catalog.models import Product, ProductPhoto, StockMovement, StockReason
from marketplace.catalog.services import CatalogError
from marketplace.db import db
from marketplace.organizations.models import Role
from marketplace.spreadsheets import SpreadsheetError

HEADER = ["Référence", "Titre", "Catégorie", "Prix (€)", "TVA (%)", "Stock", "EAN"]
LINES = [
    ["LAMP-01", "Lampe à poser émaillée", "Décoration et linge", "12,50", "20", "3", "4006381333931"],
    ["VELO-7", "Vélo de ville révisé", "Vélos", "85", "5,5", "1", ""],
]


@pytest.fixture
def seller(make_organization, make_user):
    return make_organization(name="Ressourcerie La Trouvaille", owner=make_user(locale="en"))


def csv_bytes(rows, *, sep=";", encoding="utf-8", bom=False) -> bytes:
    """As Excel writes it: cells holding the separator (12,50 with commas) are quoted."""
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def jpeg(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), color).save(buffer, "JPEG")
    return buffer.getvalue()


def run(seller, data, photos=None, *, by=None):
    plan = product_import.plan(seller, product_import.read_sheet(data),
                               product_import.read_photos(photos))
    return plan


def products_of(seller):
    return db.session.scalars(sa.select(Product).where(Product.organization_id == seller.id)
                              .order_by(Product.id)).all()


@pytest.mark.parametrize("sep, encoding, bom", [
    (";", "utf-8", True), (";", "utf-8", False), (",", "utf-8", False), (",", "utf-8", True),
    (";", "cp1252", False), (",", "cp1252", False),
])
def test_csv_in_every_encoding_and_separator_creates_the_products(app, seller, sep, encoding, bom):
    plan = run(seller, csv_bytes([HEADER, *LINES], sep=sep, encoding=encoding, bom=bom))
    assert plan.ok, [p.text() for line in plan.lines for p in line.problems] + [
        p.text() for p in plan.file_problems]
    result = product_import.apply(seller, plan, by=None)
    assert result.created == 2
    lamp, bike = products_of(seller)
    assert (lamp.reference, lamp.title, lamp.category.slug, lamp.price_cents, lamp.vat_rate_bp,
            lamp.stock, lamp.ean) == ("LAMP-01", "Lampe à poser émaillée", "home-decor", 1250, 2000,
                                      3, "4006381333931")
    assert (bike.title, bike.category.slug, bike.price_cents, bike.vat_rate_bp) == (
        "Vélo de ville révisé", "mobility-bikes", 8500, 550)
    # Found by search at once (the index is written with the products).
    for query, found in (("lampe émaillée", lamp), ("velo revise", bike), ("décoration", lamp)):
        assert db.session.scalars(sa.select(Product.id).where(
            search.match_clause(Product.__table__, query))).all() == [found.id], query
    movements = db.session.scalars(sa.select(StockMovement).where(
        StockMovement.product_id.in_([lamp.id, bike.id]))).all()
    assert {(m.product_id, m.reason, m.delta, m.stock_after) for m in movements} == {
        (lamp.id, StockReason.IMPORT, 3, 3), (bike.id, StockReason.IMPORT, 1, 1)}


def test_xlsx_creates_then_updates_by_reference_and_the_stock_change_is_a_movement(app, seller):
    product_import.apply(seller, run(seller, xlsx_bytes([HEADER, *LINES])), by=None)
    lamp = products_of(seller)[0]
    # Excel stores numbers: 14.9 as a float, stock as an integer.
    plan = run(seller, xlsx_bytes([["Référence", "Prix (€)", "Stock"], ["lamp-01", 14.9, 7]]))
    assert plan.ok
    (line,) = plan.lines
    assert line.product.id == lamp.id and line.action == "update"
    assert [column for column, _old, _new in line.changes] == ["price", "stock"]
    product_import.apply(seller, plan, by=None)
    assert (lamp.price_cents, lamp.stock, lamp.title) == (1490, 7, "Lampe à poser émaillée")
    last = db.session.scalars(sa.select(StockMovement).where(StockMovement.product_id == lamp.id)
                              .order_by(StockMovement.id.desc())).first()
    assert (last.reason, last.delta, last.stock_after) == (StockReason.IMPORT, 4, 7)


def test_a_zip_of_photos_named_by_reference(app, seller):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("photos/LAMP-01.jpg", jpeg())
        zipped.writestr("photos/LAMP-01-2.jpg", jpeg((0, 90, 200)))
        zipped.writestr("VELO-7.JPG", jpeg((0, 200, 0)))
        zipped.writestr("__MACOSX/._VELO-7.JPG", b"resource fork")
    plan = run(seller, csv_bytes([HEADER, *LINES]), archive.getvalue())
    assert plan.ok, [p.text() for p in plan.file_problems]
    result = product_import.apply(seller, plan, by=None)
    assert result.photos == 3
    lamp, bike = products_of(seller)
    db.session.expire_all()
    assert len(lamp.photos) == 2 and len(bike.photos) == 1
    assert all(photo.filename.endswith(".jpg") for photo in lamp.photos)


def test_photos_that_match_nothing_or_are_not_photos_are_named_and_nothing_is_applied(app, seller):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("UNKNOWN.jpg", jpeg())
        zipped.writestr("LAMP-01.jpg", b"not a picture at all")
        zipped.writestr("bomb.png", b"\0" * 50_000_000)  # 50 MB of zeros: refused unread
        zipped.writestr("notes.txt", b"hello")
    plan = run(seller, csv_bytes([HEADER, *LINES]), archive.getvalue())
    texts = [p.text() for p in plan.file_problems]
    assert any("UNKNOWN.jpg" in t and "matches no reference" in t for t in texts)
    assert any("LAMP-01.jpg" in t and "not a photo" in t for t in texts)
    assert any("bomb.png" in t and "too large" in t for t in texts)
    assert any("notes.txt" in t for t in texts)
    with pytest.raises(CatalogError):
        product_import.apply(seller, plan, by=None)
    assert products_of(seller) == []
    assert run(seller, csv_bytes([HEADER, *LINES]), b"PK\x03\x04 broken").file_problems[0].code == "zip_bad"


def test_a_file_full_of_mistakes_names_each_on_its_line_and_applies_nothing(app, seller,
                                                                            make_product):
    other = make_product(seller, title="Chaise paillée", stock=2)
    other.reference, other.ean = "CHAISE", "4006381333931"
    db.session.flush()
    rows = [
        HEADER + ["Couleur"],
        ["A1", "Bol", "Vaisselle de luxe", "3", "20", "1", "", "bleu"],  # 2 unknown category
        ["A2", "Tasse", "Cuisine et vaisselle", "trois euros", "20", "1", "", ""],  # 3 price
        ["A3", "Plat", "Cuisine et vaisselle", "8", "20", "-2", "", ""],  # 4 negative stock
        ["A4", "Verre", "Cuisine et vaisselle", "2", "20", "1", "", ""],  # 5 duplicate ref
        ["A4", "Carafe", "Cuisine et vaisselle", "6", "20", "1", "", ""],  # 6 duplicate ref
        ["A5", "", "Cuisine et vaisselle", "6", "20", "1", "", ""],  # 7 missing title
        ["A6", "Pichet", "Cuisine et vaisselle", "6", "19,6", "1", "", ""],  # 8 bad VAT
        ["A7", "Saladier", "Cuisine et vaisselle", "6", "20", "1", "4006381333932", ""],  # 9 EAN
        ["A8", "T" * 130, "Cuisine et vaisselle", "6", "20", "1", "", ""],  # 10 too long
        ["A9", "Plateau", "Cuisine et vaisselle", "6", "20", "deux", "", ""],  # 11 stock text
        ["A10", "Nappe", "", "6", "20", "1", "", ""],  # 12 missing category
        ["A11", "Broc", "Cuisine et vaisselle", "", "20", "1", "", ""],  # 13 missing price
        ["A12", "Cruche", "Cuisine et vaisselle", "6", "20", "1", "4006381333931", ""],  # 14 EAN taken
        ["B" * 41, "Louche", "Cuisine et vaisselle", "6", "20", "1", "", ""],  # 15 ref too long
        ["A13", "Lot de 6 verres", "Cuisine et vaisselle", "200000", "20", "1", "", ""],  # 16 price
    ]
    plan = run(seller, xlsx_bytes(rows))
    problems = {line.number: [p.text() for p in line.problems] for line in plan.lines if line.problems}
    expected = {
        2: "The category “Vaisselle de luxe” does not exist",
        3: "The price “trois euros” is not a number of euros",
        4: "The stock cannot be negative.",
        5: "The reference “A4” is also on line 6.",
        6: "The reference “A4” is also on line 5.",
        7: "The title is missing.",
        8: "The VAT rate “19,6” is not a French rate",
        9: "“4006381333932” is not a valid EAN barcode",
        10: "“Title” is too long (120 characters at most).",
        11: "The stock “deux” is not a whole number.",
        12: "The category is missing.",
        13: "The price is missing.",
        14: "The EAN 4006381333931 is already the barcode of “Chaise paillée”.",
        15: "“Reference” is too long (40 characters at most).",
        16: "The price must be between 0 and 100,000 euros.",
    }
    for number, text in expected.items():
        assert any(text in problem for problem in problems.get(number, [])), (number, problems)
    assert set(problems) == set(expected)
    assert [p.text() for p in plan.file_problems] == [
        "The column “Couleur” is not one we know: rename it (Reference, Title, Description, "
        "Category, Price, VAT, Stock, EAN, Perishable) or delete it."]
    with pytest.raises(CatalogError):
        product_import.apply(seller, plan, by=None)
    assert [p.id for p in products_of(seller)] == [other.id]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_imported_back_changes_nothing(app, seller, make_product, kind):
    first = make_product(seller, title="=SOMME(A1)", description="Écrit à la main; « fragile »",
                         price_cents=1999, stock=4, vat_rate_bp=550)
    first.reference, first.ean = "-REF", "96385074"
    make_product(seller, title="Atelier réparation vélo", stock=None, vat_rate_bp=0,
                 price_cents=500, category_slug="mobility-bikes", is_perishable=True)
    db.session.flush()
    with force_locale("fr"):  # the sellers' language: semicolons, decimal commas
        data = (product_import.export_csv(seller).encode("utf-8") if kind == "csv"
                else product_import.export_xlsx(seller))
    if kind == "csv":
        text = data.decode("utf-8")
        assert text.startswith("\ufeffN°;Référence;Titre;Description;Catégorie;Prix (€)")
        assert ";19,99;5,5;4;96385074;non" in text and "'=SOMME(A1)" in text
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[1]][:3] == ["N°", "Référence", "Titre"]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    plan = run(seller, data)
    assert plan.ok, [p.text() for line in plan.lines for p in line.problems]
    assert [line.action for line in plan.lines] == ["same", "same"]
    product_import.apply(seller, plan, by=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == before
    assert (first.title, first.reference, first.price_cents, first.stock) == (
        "=SOMME(A1)", "-REF", 1999, 4)


def test_files_that_are_not_tables_are_refused_with_their_reason(app, seller):
    with pytest.raises(SpreadsheetError, match="empty"):
        product_import.read_sheet(b"")
    with pytest.raises(SpreadsheetError, match="header but no product"):
        product_import.read_sheet(csv_bytes([HEADER]))


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def manager(app, seller, make_user, login):
    user = make_user(locale="en")
    from marketplace.organizations.models import Membership

    db.session.add(Membership(organization=seller, user=user, role=Role.MANAGER))
    db.session.commit()
    g.pop("_login_user", None)
    login(user)
    return user


def _token(response) -> str:
    return re.search(r"/products/import/([A-Za-z0-9_-]+)", response.headers["Location"]).group(1)


def test_upload_preview_and_apply(app, client, seller, manager):
    page = client.get(f"/orgs/{seller.id}/products/import")
    assert page.status_code == 200
    response = client.post(f"/orgs/{seller.id}/products/import", data={
        "spreadsheet": (io.BytesIO(csv_bytes([HEADER, *LINES])), "produits.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    token = _token(response)
    preview = client.get(f"/orgs/{seller.id}/products/import/{token}")
    assert preview.status_code == 200
    assert "New product" in preview.text and "Apply the import" in preview.text
    assert products_of(seller) == []  # a preview changes nothing
    done = client.post(f"/orgs/{seller.id}/products/import/{token}")
    assert done.status_code == 302
    assert [p.reference for p in products_of(seller)] == ["LAMP-01", "VELO-7"]
    # The files are gone with the import: the same token cannot be applied twice.
    assert client.post(f"/orgs/{seller.id}/products/import/{token}").status_code == 404


def test_a_file_with_a_mistake_is_never_applied_through_the_page(app, client, seller, manager,
                                                                 make_organization):
    response = client.post(f"/orgs/{seller.id}/products/import", data={
        "spreadsheet": (io.BytesIO(csv_bytes([HEADER, ["X", "Bol", "Inconnue", "3", "20", "1", ""]])),
                        "produits.csv")}, content_type="multipart/form-data")
    token = _token(response)
    preview = client.get(f"/orgs/{seller.id}/products/import/{token}")
    assert "Line 2 (X): The category “Inconnue” does not exist" in preview.text
    assert "Apply the import" not in preview.text
    refused = client.post(f"/orgs/{seller.id}/products/import/{token}")
    assert refused.status_code == 409 and products_of(seller) == []
    # Another seller's page does not find the file; a made-up token neither.
    stranger = make_organization(owner=manager)
    db.session.commit()
    assert client.get(f"/orgs/{stranger.id}/products/import/{token}").status_code == 404
    assert client.get(f"/orgs/{seller.id}/products/import/{'x' * 24}").status_code == 404


def test_an_unreadable_upload_is_a_clear_400(app, client, seller, manager):
    response = client.post(f"/orgs/{seller.id}/products/import", data={
        "spreadsheet": (io.BytesIO(b"\xd0\xcf\x11\xe0old excel"), "produits.xls")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "old Excel file" in response.text


def test_exports_download(app, client, seller, manager, make_product):
    make_product(seller, title="Bol")
    db.session.commit()
    csv = client.get(f"/orgs/{seller.id}/products/export.csv")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    xlsx = client.get(f"/orgs/{seller.id}/products/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert ProductPhoto  # photos are exported by the shop page, not the sheet
