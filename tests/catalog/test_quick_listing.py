"""Quick listing from a phone (issue 18): photos, title, French price, a guessed category, the
condition and defects of a second-hand item, quantity 1; published or kept as a draft."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from flask import g
from PIL import Image

from marketplace.audit.models import AuditEntry
from marketplace.catalog import suggest
from marketplace.catalog.models import Condition, Product, ProductStatus
from marketplace.catalog.services import category_tree, get_category
from marketplace.db import db
from marketplace.organizations.models import Role
from tests.catalog.test_staff_views import stored_files

pytestmark = pytest.mark.english


@pytest.fixture
def login(login):
    def do_login(user):
        db.session.commit()
        g.pop("_login_user", None)
        return login(user)

    return do_login


@pytest.fixture
def shop(make_user, make_organization):
    manager = make_user(name="Karim Benali", locale="en")
    counter = make_user(name="Lucie Moreau", locale="en")
    org = make_organization(name="Ressourcerie La Trouvaille",
                            members={Role.MANAGER: manager, Role.COUNTER: counter})
    return org, manager, counter


def jpeg(size=(2400, 1800), color=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def quick_data(**overrides) -> dict:
    data = {"title": "Fauteuil en rotin", "price": "35,50",
            "category_id": str(get_category("home-furniture").id), "condition": "good",
            "defects": "Un accoudoir un peu décoloré", "quantity": "1", "publish": "Publish"}
    data.update(overrides)
    return data


def products_of(org) -> list[Product]:
    return db.session.scalars(sa.select(Product).where(Product.organization_id == org.id)
                              .order_by(Product.id)).all()


def test_the_screen_is_made_for_a_phone_camera(client, shop, login):
    org, manager, _ = shop
    login(manager)
    page = client.get(f"/orgs/{org.id}/products/quick").get_data(as_text=True)
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    assert 'name="quantity"' in page and 'value="1"' in page
    assert ">Publish</button>" in page and ">Save as draft</button>" in page
    assert f'href="/orgs/{org.id}/products/quick"' in client.get(
        f"/orgs/{org.id}/products").get_data(as_text=True)  # linked from the products page


def test_a_volunteer_publishes_a_second_hand_item_with_two_photos(app, client, shop, login):
    org, manager, _ = shop
    login(manager)
    before = stored_files(app)
    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        photos=[(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg(color=(1, 2, 3))), "b.jpg")],
    ), content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/products/quick")  # the next one
    (product,) = products_of(org)
    assert (product.title, product.price_cents, product.stock, product.status) == (
        "Fauteuil en rotin", 3550, 1, ProductStatus.ACTIVE)
    assert product.condition == Condition.GOOD and product.defects == "Un accoudoir un peu décoloré"
    assert product.vat_rate_bp == 2000 and product.category.slug == "home-furniture"
    assert len(product.photos) == 2
    assert max(product.photos[0].width, product.photos[0].height) == 1600  # shrunk on the server
    assert len(stored_files(app) - before) == 4  # two photos, two thumbnails
    assert "is on sale" in client.get(response.headers["Location"]).get_data(as_text=True)

    client.get("/logout")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "Good condition" in page and "Un accoudoir un peu décoloré" in page
    assert "Fauteuil en rotin" in client.get("/products").get_data(as_text=True)
    item = client.get(f"/api/v1/products/{product.id}").get_json()
    assert (item["condition"], item["defects"]) == ("good", "Un accoudoir un peu décoloré")


def test_a_draft_is_seen_only_in_the_back_office_until_published(client, shop, login):
    org, manager, _ = shop
    login(manager)
    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        publish="", save_draft="Save as draft"), content_type="multipart/form-data")
    assert response.status_code == 302
    (product,) = products_of(org)
    assert product.status == ProductStatus.DRAFT
    drafts = client.get(f"/orgs/{org.id}/products?status=draft").get_data(as_text=True)
    assert "Fauteuil en rotin" in drafts and "Draft" in drafts
    assert "Fauteuil en rotin" not in client.get(
        f"/orgs/{org.id}/products").get_data(as_text=True)  # "on sale"

    assert "Fauteuil en rotin" not in client.get("/products").get_data(as_text=True)
    assert "Fauteuil en rotin" not in client.get("/products?q=fauteuil").get_data(as_text=True)
    assert client.get(f"/products/{product.id}").status_code == 404
    assert client.get(f"/api/v1/products/{product.id}").status_code == 404
    assert client.get("/api/v1/products").get_json()["items"] == []

    assert client.post(f"/orgs/{org.id}/products/{product.id}/publish").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == ProductStatus.ACTIVE
    assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())
                             .limit(1)) == "product.published"
    assert "Fauteuil en rotin" in client.get("/products").get_data(as_text=True)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"price": "douze"}, "Type a price in euros"),
    ({"price": "-3"}, "Type a price in euros"),
    ({"title": ""}, "This field is required"),
    ({"quantity": "0"}, "Number must be between 1 and"),
    ({"quantity": "abc"}, "Not a valid integer value"),
    ({"condition": "broken"}, "Not a valid choice"),
    ({"category_id": "999999"}, "Not a valid choice"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_stored(app, client, shop, login,
                                                                 overrides, message):
    org, manager, _ = shop
    login(manager)
    before = stored_files(app)
    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        photos=[(io.BytesIO(jpeg((40, 30))), "a.jpg")], **overrides),
        content_type="multipart/form-data")
    assert response.status_code == 400
    errors = re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    assert any(message in error for error in errors), errors
    assert products_of(org) == [] and stored_files(app) == before


def test_a_file_that_is_no_photo_or_too_many_photos_keeps_nothing(app, client, shop, login):
    org, manager, _ = shop
    login(manager)
    before = stored_files(app)
    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        photos=[(io.BytesIO(jpeg((40, 30))), "a.jpg"), (io.BytesIO(b"%PDF-1.4 not a photo"), "b.jpg")],
    ), content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a photo we can read" in response.get_data(as_text=True)
    assert products_of(org) == [] and stored_files(app) == before  # the first one's files too

    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        photos=[(io.BytesIO(jpeg((40, 30))), f"{n}.jpg") for n in range(6)],
    ), content_type="multipart/form-data")
    assert response.status_code == 400
    assert "5 photos at most" in response.get_data(as_text=True)
    assert products_of(org) == []


def test_counter_staff_cannot_list(client, shop, login):
    org, _, counter = shop
    login(counter)
    assert client.get(f"/orgs/{org.id}/products/quick").status_code == 403


@pytest.mark.parametrize(("title", "slug"), [
    ("Pull en laine taille M", "clothing-women"),
    ("Vélo de course Peugeot", "mobility-bikes"),
    ("Lot de 6 assiettes plates", "home-kitchen"),
    ("Chaussures de randonnée 42", "clothing-shoes"),
    ("Roman policier de poche", "books-novels"),
    ("Perceuse Bosch", "home-garden"),
    ("Table basse en chêne", "home-furniture"),
    ("Jeu de société Dixit", "toys-games"),
])
def test_the_category_is_guessed_from_the_title(app, title, slug):
    assert suggest.from_title(title, category_tree()).slug == slug


def test_the_guess_prefers_the_sellers_recent_choices(client, shop, login, make_product):
    org, manager, _ = shop
    make_product(org, title="Chemise", category_slug="clothing-men")
    login(manager)
    # "pull" names clothing only: the seller's recent sub-category wins the tie.
    body = client.get(f"/orgs/{org.id}/products/quick/category?title=Pull+rayé").get_json()
    assert body == {"category_id": get_category("clothing-men").id}
    body = client.get(f"/orgs/{org.id}/products/quick/category?title=xyz").get_json()
    assert body == {"category_id": get_category("clothing-men").id}  # the latest category
    page = client.get(f"/orgs/{org.id}/products/quick").get_data(as_text=True)
    assert f'<option selected value="{get_category("clothing-men").id}">' in page or (
        f'value="{get_category("clothing-men").id}" selected' in page)


def test_a_category_left_empty_is_guessed_from_the_title(client, shop, login):
    org, manager, _ = shop
    login(manager)
    response = client.post(f"/orgs/{org.id}/products/quick", data=quick_data(
        title="Vélo pour enfant", category_id=""), content_type="multipart/form-data")
    assert response.status_code == 302
    (product,) = products_of(org)
    assert product.category.slug == "mobility-bikes"


def test_the_product_form_edits_the_condition_defects_and_alert_threshold(client, shop, login,
                                                                          make_product):
    org, manager, _ = shop
    product = make_product(org, title="Commode", category_slug="home-furniture")
    login(manager)
    page = client.get(f"/orgs/{org.id}/products/{product.id}").get_data(as_text=True)
    assert "Condition of a second-hand item" in page and "Alert when the stock falls below" in page
    response = client.post(f"/orgs/{org.id}/products/{product.id}", data={
        "title": "Commode", "description": "", "price": "15", "vat_rate_bp": "2000",
        "category_id": str(get_category("home-furniture").id), "condition": "fair",
        "defects": "Un tiroir coince", "low_stock_threshold": "2"})
    assert response.status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.condition, product.defects, product.low_stock_threshold) == (
        Condition.FAIR, "Un tiroir coince", 2)
    response = client.post(f"/orgs/{org.id}/products/{product.id}", data={
        "title": "Commode", "description": "", "price": "15", "vat_rate_bp": "2000",
        "category_id": str(get_category("home-furniture").id), "condition": "",
        "low_stock_threshold": "-1"})
    assert response.status_code == 400
    assert "Number must be between 0 and" in response.get_data(as_text=True)
