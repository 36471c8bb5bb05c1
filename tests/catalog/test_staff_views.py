"""The seller back office for products: create, edit, photos, stock; managers only, own products only."""
from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from PIL import Image

from marketplace.catalog.models import Product, ProductPhoto, ProductStatus, StockReason
from marketplace.catalog.services import get_category
from marketplace.db import db
from marketplace.organizations.models import Role


@pytest.fixture
def login(login):
    """Save what the test built (a failed request rolls the session back), then log in."""

    def do_login(user):
        db.session.commit()
        g.pop("_login_user", None)
        return login(user)

    return do_login


@pytest.fixture
def shop(make_user, make_organization):
    """A seller with an owner, a manager and counter staff; English pages, stable in tests."""
    owner = make_user(name="Claire Dumont", locale="en")
    manager = make_user(name="Karim Benali", locale="en")
    counter = make_user(name="Lucie Moreau", locale="en")
    org = make_organization(
        name="Ressourcerie La Trouvaille", owner=owner,
        members={Role.MANAGER: manager, Role.COUNTER: counter},
    )
    return org, manager, counter


def png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def png_bomb(width=30000, height=30000) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: about 100 KB on the wire, gigabytes
    once decoded (the IDAT is real zlib data, built row block by row block)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / "products"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def text(response) -> str:
    return response.get_data(as_text=True)


def product_data(**overrides) -> dict:
    data = {
        "title": "Lampe de chevet en laiton",
        "description": "Restaurée par notre atelier.",
        "price": "12,50",
        "vat_rate_bp": "550",
        "category_id": str(get_category("home-decor").id),
        "stock": "4",
    }
    data.update(overrides)
    return data


def products_of(org) -> list[Product]:
    return db.session.scalars(sa.select(Product).where(Product.organization_id == org.id)).all()


# --- products --------------------------------------------------------------------------------


def test_manager_creates_a_product_with_a_photo_edits_and_archives_it(app, client, shop, login):
    org, manager, _counter = shop
    login(manager)
    base = f"/orgs/{org.id}/products"

    form = text(client.get(f"{base}/new"))
    assert '<optgroup label="Home">' in form  # categories grouped by parent
    assert ">5.5%</option>" in form
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in form
    before = stored_files(app)

    response = client.post(f"{base}/new", data=product_data(
        is_perishable="y", photo=upload(png(), "lampe.png"), alt_text="Lampe vue de face",
    ), content_type="multipart/form-data")

    assert response.status_code == 302
    (product,) = products_of(org)
    assert response.headers["Location"].endswith(f"{base}/{product.id}")
    assert (product.title, product.price_cents, product.vat_rate_bp, product.stock) == (
        "Lampe de chevet en laiton", 1250, 550, 4)
    assert product.is_perishable and product.category.slug == "home-decor"
    (photo,) = product.photos
    assert photo.alt_text == "Lampe vue de face"
    assert stored_files(app) - before == {photo.filename, photo.thumbnail}

    listing = text(client.get(base))
    assert "Lampe de chevet en laiton" in listing
    assert "€12.50" in listing
    assert f"/media/products/{photo.thumbnail}" in listing

    response = client.post(f"{base}/{product.id}", data=product_data(
        title="Lampe de chevet dorée", price="9.9", vat_rate_bp="2000",
        category_id=str(get_category("home-furniture").id),
    ))
    assert response.status_code == 302
    assert (product.title, product.price_cents, product.vat_rate_bp, product.is_perishable) == (
        "Lampe de chevet dorée", 990, 2000, False)
    assert product.category.slug == "home-furniture"
    assert product.stock == 4  # the details form does not touch the stock

    assert client.post(f"{base}/{product.id}/archive").status_code == 302
    assert product.status == ProductStatus.ARCHIVED
    assert ">Lampe de chevet dorée</a>" not in text(client.get(base))
    assert ">Lampe de chevet dorée</a>" in text(client.get(f"{base}?status=archived"))

    assert client.post(f"{base}/{product.id}/restore").status_code == 302
    assert product.status == ProductStatus.ACTIVE


def test_unlimited_service_without_photo(client, shop, login):
    org, manager, _counter = shop
    login(manager)

    response = client.post(f"/orgs/{org.id}/products/new", data=product_data(
        title="Atelier réparation vélo", stock="", unlimited="y",
        category_id=str(get_category("services").id),
    ))

    assert response.status_code == 302
    (product,) = products_of(org)
    assert product.unlimited and product.photos == []
    assert "Unlimited" in text(client.get(f"/orgs/{org.id}/products"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": "douze euros"}, "Type a price in euros, for example 12,50."),
        ({"price": "12,505"}, "Type a price in euros, for example 12,50."),
        ({"price": "-3"}, "Type a price in euros, for example 12,50."),
        ({"price": "200000"}, "The price must be between 0 and 100,000 euros."),
        ({"stock": ""}, "Give the number of items in stock, or tick unlimited stock."),
        ({"title": "  "}, "This field is required."),
        ({"category_id": ""}, "Choose the category where shoppers will look for it."),
        ({"category_id": "9999"}, "Not a valid choice."),
    ],
)
def test_invalid_product_form_shows_the_error_on_the_field(client, shop, login, overrides, message):
    org, manager, _counter = shop
    login(manager)

    response = client.post(f"/orgs/{org.id}/products/new", data=product_data(**overrides))

    assert response.status_code == 400
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert products_of(org) == []


def test_prices_are_shown_and_typed_the_french_way_for_french_users(client, make_user, make_organization, make_product, login):
    manager = make_user(locale="fr")
    org = make_organization(owner=make_user(), members={Role.MANAGER: manager})
    product = make_product(org, price_cents=1250)
    login(manager)

    assert "12,50\u00a0€" in text(client.get(f"/orgs/{org.id}/products"))
    assert 'value="12,50"' in text(client.get(f"/orgs/{org.id}/products/{product.id}"))


def test_works_council_cannot_list_products(client, make_user, make_organization, login):
    from marketplace.organizations.models import OrganizationKind

    manager = make_user(locale="en")
    cse = make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=manager)
    login(manager)

    assert client.get(f"/orgs/{cse.id}/products/new").status_code == 403
    assert client.post(f"/orgs/{cse.id}/products/new", data=product_data()).status_code == 403
    assert products_of(cse) == []


# --- photos ----------------------------------------------------------------------------------


def test_manager_adds_orders_and_removes_photos(app, client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org)
    login(manager)
    base = f"/orgs/{org.id}/products/{product.id}"

    for color in ("red", "blue"):
        response = client.post(f"{base}/photos", data={"photo": upload(png(color=color), "p.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 302
    first, second = product.photos
    assert {first.filename, first.thumbnail, second.filename, second.thumbnail} <= stored_files(app)

    assert client.post(f"{base}/photos/{second.id}/main").status_code == 302
    db.session.refresh(product)
    assert product.main_photo.id == second.id

    removed = {first.filename, first.thumbnail}
    assert client.post(f"{base}/photos/{first.id}/remove").status_code == 302
    assert [p.id for p in product.photos] == [second.id]
    assert db.session.get(ProductPhoto, first.id) is None
    assert not removed & stored_files(app)  # the files went with the record

    page = text(client.get(base))
    assert f"/media/products/{second.thumbnail}" in page
    assert "Main photo" in page


@pytest.mark.parametrize(
    ("config", "data", "message"),
    [
        ({}, b"Bonjour, je ne suis pas une image.\n", "This file is not a photo we can read"),
        ({}, b"\xff\xd8\xff\xe0 truncated jpeg", "This file is not a photo we can read"),
        ({"UPLOAD_MAX_BYTES": 2**20}, png()[:40] + b"\0" * (2**20 + 1), "The photo is too large: 1 MB at most."),
        ({}, png_bomb(), "The photo has too many pixels"),
        ({"UPLOAD_MAX_PIXELS": 100}, png(size=(20, 20)), "The photo has too many pixels"),
    ],
    ids=["text-file", "broken-jpeg", "too-big", "decompression-bomb", "too-many-pixels"],
)
def test_bad_uploads_are_refused_with_a_message_and_nothing_is_saved(
    app, client, shop, make_product, login, config, data, message
):
    org, manager, _counter = shop
    product = make_product(org, title="Vase en grès")
    login(manager)
    app.config.update(config)
    before = stored_files(app)

    on_product = client.post(
        f"/orgs/{org.id}/products/{product.id}/photos",
        data={"photo": upload(data, "photo.jpg")}, content_type="multipart/form-data",
    )
    on_creation = client.post(
        f"/orgs/{org.id}/products/new",
        data=product_data(title="Nouveau vase", photo=upload(data, "photo.jpg")),
        content_type="multipart/form-data",
    )

    for response in (on_product, on_creation):
        assert response.status_code == 400
        assert message in text(response)
        assert 'id="photo-error"' in text(response)  # on the field, tied to it
    assert [p.title for p in products_of(org)] == ["Vase en grès"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductPhoto)) == 0
    assert stored_files(app) == before


def test_a_request_above_the_size_limit_gets_the_413_page(app, client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org)
    login(manager)
    app.config["MAX_CONTENT_LENGTH"] = 10_000

    response = client.post(
        f"/orgs/{org.id}/products/{product.id}/photos",
        data={"photo": upload(b"\0" * 20_000, "big.png")}, content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert product.photos == []


# --- stock -----------------------------------------------------------------------------------


def test_manager_adjusts_the_stock_and_sees_the_history(client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org, stock=5)
    login(manager)
    base = f"/orgs/{org.id}/products/{product.id}"

    response = client.post(f"{base}/stock", data={"change": "+3", "reason": "return", "note": "Client reparti"})
    assert response.status_code == 302
    assert product.stock == 8
    response = client.post(f"{base}/stock", data={"new_count": "2", "reason": "manual", "note": "Inventaire"})
    assert response.status_code == 302
    assert product.stock == 2

    page = text(client.get(base))
    history = page[page.index("Stock history"):]
    assert re.search(r"<td>-6</td>\s*<td>2</td>\s*<td>Manual adjustment</td>\s*<td>Inventaire", history)
    assert re.search(r"<td>\+3</td>\s*<td>8</td>\s*<td>Return</td>\s*<td>Client reparti", history)
    assert "Karim Benali" in history
    assert "Initial stock" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"change": "-3", "reason": "manual"}, "Only 2 left: the stock cannot go below zero."),
        ({"reason": "manual"}, "Give either a change (+3 or -2) or the new count."),
        ({"change": "1", "new_count": "4", "reason": "manual"}, "Give either a change or the new count, not both."),
        ({"new_count": "-1", "reason": "manual"}, "Number must be between 0 and 1000000."),
        ({"change": "2", "reason": "sale"}, "Not a valid choice."),  # sales belong to orders
    ],
)
def test_refused_stock_changes_leave_the_stock_alone(client, shop, make_product, login, data, message):
    org, manager, _counter = shop
    product = make_product(org, stock=2)
    login(manager)

    response = client.post(f"/orgs/{org.id}/products/{product.id}/stock", data=data)

    assert response.status_code == 400
    assert message in text(response)
    assert product.stock == 2
    assert len(product_movements(product)) == 1  # the initial stock only


def product_movements(product):
    from marketplace.catalog.services import stock_movements

    return stock_movements(product)


def test_switching_between_counted_and_unlimited_stock(client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org, stock=3)
    login(manager)
    base = f"/orgs/{org.id}/products/{product.id}"

    assert client.post(f"{base}/stock/unlimited").status_code == 302
    assert product.unlimited
    assert client.post(f"{base}/stock/counted", data={"stock": ""}).status_code == 400
    assert product.unlimited
    assert client.post(f"{base}/stock/counted", data={"stock": "0"}).status_code == 302
    assert product.stock == 0
    assert "Out of stock (0)" in text(client.get(f"/orgs/{org.id}/products"))
    reasons = [m.reason for m in product_movements(product)]
    assert reasons == [StockReason.UNLIMITED, StockReason.UNLIMITED, StockReason.INITIAL]
    page = text(client.get(base))
    assert "Switched to unlimited stock" in page and "Switched to counted stock" in page


# --- access ----------------------------------------------------------------------------------


def catalog_staff_paths(app, org_id: int, product_id: int, photo_id: int) -> list[tuple[str, str]]:
    ids = {"org_id": org_id, "product_id": product_id, "photo_id": photo_id}
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("catalog_staff."):
            path = rule.rule
            for name, value in ids.items():
                path = path.replace(f"<int:{name}>", str(value))
            assert "<" not in path, path
            calls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return calls


def test_counter_staff_gets_403_on_every_product_page_and_nothing_changes(
    app, client, shop, make_product, login
):
    org, manager, counter = shop
    product = make_product(org, stock=5, title="Table basse")
    from marketplace.catalog import services as catalog

    catalog.add_photo(product, png(), by=manager)
    photo = product.photos[0]
    login(counter)

    calls = catalog_staff_paths(app, org.id, product.id, photo.id)
    assert len(calls) >= 12
    for method, path in calls:
        data = {"title": "Piraté", "price": "1", "vat_rate_bp": "0", "category_id": str(product.category_id),
                "stock": "0", "change": "-5", "reason": "manual", "photo": upload(png(), "x.png")}
        response = client.open(path, method=method, data=data if method == "POST" else None,
                               content_type="multipart/form-data" if method == "POST" else None)
        assert response.status_code == 403, (method, path)
        assert "Table basse" not in text(response)

    db.session.expire_all()
    assert (product.title, product.stock, product.status, len(product.photos)) == (
        "Table basse", 5, ProductStatus.ACTIVE, 1)
    assert products_of(org) == [product]


def test_another_organizations_product_is_a_404(app, client, shop, make_user, make_organization, make_product, login):
    org, manager, _counter = shop
    other = make_organization(name="Autre boutique", owner=make_user())
    theirs = make_product(other, stock=5, title="Secret d'à côté")
    from marketplace.catalog import services as catalog

    catalog.add_photo(theirs, png(), by=None)
    mine = make_product(org, title="À moi")
    login(manager)

    for method, path in catalog_staff_paths(app, org.id, theirs.id, theirs.photos[0].id):
        if path.endswith(("/products", "/products/new")):
            continue
        response = client.open(path, method=method, data={"change": "-5", "reason": "manual"})
        assert response.status_code == 404, (method, path)
        assert "Secret d" not in text(response)
    # Their photo through my product is not found either.
    response = client.post(f"/orgs/{org.id}/products/{mine.id}/photos/{theirs.photos[0].id}/remove")
    assert response.status_code == 404

    db.session.expire_all()
    assert (theirs.stock, theirs.status, len(theirs.photos)) == (5, ProductStatus.ACTIVE, 1)


def test_every_post_form_carries_the_csrf_token_and_ids_are_unique(app, client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org)
    from marketplace.catalog import services as catalog

    catalog.add_photo(product, png(), by=None)
    catalog.add_photo(product, png(), by=None)
    service = make_product(org, stock=None, title="Atelier", category_slug="services")
    login(manager)
    app.config["WTF_CSRF_ENABLED"] = True

    for path in (f"/orgs/{org.id}/products", f"/orgs/{org.id}/products/new",
                 f"/orgs/{org.id}/products/{product.id}", f"/orgs/{org.id}/products/{service.id}"):
        page = text(client.get(path))
        forms = re.findall(r'<form\b[^>]*method="post".*?</form>', page, flags=re.S)
        assert len(forms) >= 2  # the layout's logout and language forms, and ours
        for form in forms:
            assert 'name="csrf_token"' in form, form[:120]
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        assert re.findall(r"<h([1-6])", page)[0] == "1"

    # Without the token, nothing happens.
    assert client.post(f"/orgs/{org.id}/products/{product.id}/archive").status_code == 400
    assert product.is_active


def test_a_product_filed_under_a_parent_category_keeps_it_when_edited(client, shop, make_product, login):
    org, manager, _counter = shop
    product = make_product(org, category_slug="home")  # older data: a parent that has children
    login(manager)
    url = f"/orgs/{org.id}/products/{product.id}"

    assert re.search(rf'<option selected value="{product.category_id}">Home</option>', text(client.get(url)))
    response = client.post(url, data=product_data(category_id=str(product.category_id)))

    assert response.status_code == 302
    assert product.category.slug == "home"
