"""Shelf labels (issue 18): an A4 sheet of price labels whose QR codes lead to the products'
pages; the sheets' geometry, the title cut nicely, a start position on a half-used sheet."""
from __future__ import annotations

import pytest
import zxingcpp
from flask import g

from marketplace.catalog.labels import LAYOUTS, fit_lines
from marketplace.catalog.models import Condition
from marketplace.catalog.views import product_url
from marketplace.db import db
from marketplace.organizations.models import Role

pdfium = pytest.importorskip("pypdfium2")

pytestmark = pytest.mark.english
DPI = 200


@pytest.fixture
def login(login):
    def do_login(user):
        db.session.commit()
        g.pop("_login_user", None)
        return login(user)

    return do_login


@pytest.fixture
def shelf(make_user, make_organization, make_product):
    manager = make_user(name="Karim Benali", locale="en")
    org = make_organization(name="Ressourcerie La Trouvaille", members={Role.MANAGER: manager})
    armchair = make_product(org, title="Fauteuil en rotin tressé des années soixante-dix, "
                                       "coussin d'origine, restauré par notre atelier de Villeurbanne",
                            price_cents=3550, stock=1)
    armchair.condition = Condition.VERY_GOOD
    lamp = make_product(org, title="Lampe", price_cents=1200)
    return org, manager, armchair, lamp


def render(pdf: bytes, page: int = 0):
    document = pdfium.PdfDocument(pdf)
    image = document[page].render(scale=DPI / 72).to_pil()
    pages = len(document)
    document.close()
    return image, pages


def crop_label(image, layout, index: int):
    """The label at `index` (0 = top left) of the rendered page."""
    x, y = layout.origin(index)
    mm = DPI / 25.4
    return image.crop((int(x * mm), int(y * mm), int((x + layout.width) * mm),
                       int((y + layout.height) * mm)))


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_each_label_of_the_sheet_holds_a_qr_code_to_its_products_page(client, shelf, login, key):
    org, manager, armchair, lamp = shelf
    login(manager)
    layout = LAYOUTS[key]
    response = client.get(f"/orgs/{org.id}/products/labels",
                          query_string={"product": [armchair.id, lamp.id], "layout": key})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    image, pages = render(response.data)
    assert pages == 1
    for index, product in enumerate((armchair, lamp)):
        label = crop_label(image, layout, index)
        (code,) = zxingcpp.read_barcodes(label)
        assert code.format == zxingcpp.BarcodeFormat.QRCode
        assert code.text == product_url(product, external=True)
        assert code.text.startswith(("http://", "https://")) and f"/products/{product.id}" in code.text
    assert zxingcpp.read_barcodes(crop_label(image, layout, 2)) == []  # the third is blank
    if key == "3x8":
        image.save("/tmp/quicklist_labels_3x8.png")


def test_the_text_of_a_label(client, shelf, login):
    org, manager, armchair, lamp = shelf
    login(manager)
    response = client.get(f"/orgs/{org.id}/products/labels",
                          query_string={"product": [armchair.id], "layout": "2x7"})
    document = pdfium.PdfDocument(response.data)
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "€35.50" in text  # the reader's language (English here; 35,50 € in French)
    assert "Very good condition" in text
    assert "Fauteuil en rotin tressé" in text and "…" in text  # cut, with an ellipsis
    assert "Villeurbanne" not in text


def test_labels_start_where_a_half_used_sheet_left_off(client, shelf, login):
    org, manager, armchair, lamp = shelf
    login(manager)
    layout = LAYOUTS["3x8"]
    response = client.get(f"/orgs/{org.id}/products/labels", query_string={
        "product": [lamp.id, armchair.id], "layout": "3x8", "start": "24"})
    first, pages = render(response.data, 0)
    assert pages == 2  # the last label of the first sheet, then the next sheet
    assert zxingcpp.read_barcodes(crop_label(first, layout, 23))[0].text == product_url(
        lamp, external=True)
    assert zxingcpp.read_barcodes(crop_label(first, layout, 0)) == []
    second, _ = render(response.data, 1)
    assert zxingcpp.read_barcodes(crop_label(second, layout, 0))[0].text == product_url(
        armchair, external=True)


@pytest.mark.parametrize(("query", "status"), [
    ({}, 400),
    ({"product": "abc"}, 400),
    ({"product": "1", "layout": "4x10"}, 400),
    ({"product": "1", "start": "25"}, 400),
    ({"product": "1", "start": "0"}, 400),
    ({"product": "99999"}, 404),
])
def test_a_bad_request_is_answered_with_a_message(client, shelf, login, query, status):
    org, manager, armchair, _lamp = shelf
    login(manager)
    if query.get("product") == "1":
        query = {**query, "product": str(armchair.id)}
    response = client.get(f"/orgs/{org.id}/products/labels", query_string=query)
    assert response.status_code == status
    assert response.mimetype == "text/html"


def test_another_sellers_products_have_no_labels(client, shelf, login, make_product,
                                                 make_organization):
    org, manager, _armchair, _lamp = shelf
    other = make_product(make_organization(name="Autre"), title="Vase")
    login(manager)
    response = client.get(f"/orgs/{org.id}/products/labels", query_string={"product": other.id})
    assert response.status_code == 404


def test_fit_lines_cuts_between_words_and_ends_with_an_ellipsis():
    def measure(text):
        return len(text)

    assert fit_lines("Lampe de chevet", 20, max_lines=2, measure=measure) == ["Lampe de chevet"]
    assert fit_lines("Lampe de chevet en laiton", 10, max_lines=3, measure=measure) == [
        "Lampe de", "chevet en", "laiton"]
    assert fit_lines("Lampe de chevet en laiton doré", 10, max_lines=2, measure=measure) == [
        "Lampe de", "chevet en…"]
    assert fit_lines("Anticonstitutionnellement", 10, max_lines=2, measure=measure) == [
        "Anticonsti", "tutionnel…"]
