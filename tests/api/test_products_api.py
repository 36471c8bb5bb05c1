"""GET /api/v1/products and /api/v1/products/<id>: filters, cursor pages, JSON errors."""
from __future__ import annotations

import base64
import json

import pytest

from marketplace.db import db
from tests.api.shelf import build_shelf, build_walk


@pytest.fixture
def shelf(app):
    return build_shelf()


def titles(client, **params) -> list[str]:
    response = client.get("/api/v1/products", query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def assert_bad_request(response, parameter: str | None = None) -> dict:
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == 400 and body["message"]
    if parameter:
        assert parameter in body["errors"]["query"], body
    return body


def cursor_of(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_product_list_item_shape(client, shelf):
    response = client.get("/api/v1/products", query_string={"q": "velo de ville"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["next_cursor"] is None
    (item,) = body["items"]
    assert item["id"] == shelf.bike.id
    assert item["title"] == "Vélo de ville révisé"
    assert item["description"] == "Cadre acier <b>solide</b>\nFreins neufs"  # JSON: no HTML escaping
    assert item["price_cents"] == 12000 and item["currency"] == "EUR"
    assert item["vat_rate_bp"] == 2000
    assert item["stock"] == 1 and item["in_stock"] is True
    assert item["is_perishable"] is False
    assert item["category"] == {"slug": "mobility-bikes", "name_fr": "Vélos", "name_en": "Bikes",
                                "parent_slug": "mobility"}
    assert item["seller"]["id"] == shelf.lyon.id
    assert item["seller"]["town"] == "Lyon" and item["seller"]["postcode"] == "69003"
    assert item["seller"]["url"] == f"http://localhost/sellers/{shelf.lyon.slug}"
    assert item["seller"]["api_url"] == f"http://localhost/api/v1/sellers/{shelf.lyon.id}"
    assert item["url"] == f"http://localhost/products/{shelf.bike.id}"
    assert item["api_url"] == f"http://localhost/api/v1/products/{shelf.bike.id}"
    assert item["photos"] == []
    assert item["created_at"].endswith("+00:00")


def test_unlimited_and_out_of_stock(client, shelf):
    items = {i["title"]: i for i in client.get("/api/v1/products").get_json()["items"]}
    assert items["Confiture de fraises"]["stock"] is None
    assert items["Confiture de fraises"]["in_stock"] is True
    assert items["Lot de trois livres de poche"]["in_stock"] is False


def test_only_public_products(client, shelf):
    assert sorted(titles(client)) == sorted(p.title for p in shelf.public)


def test_photos_have_absolute_urls(client, shelf):
    from io import BytesIO

    from PIL import Image

    from marketplace.catalog import services as catalog

    buffer = BytesIO()
    Image.new("RGB", (80, 60), "green").save(buffer, "PNG")
    photo = catalog.add_photo(shelf.bike, buffer.getvalue(), alt_text="Un vélo vert", by=None)
    db.session.commit()
    (item,) = client.get(f"/api/v1/products?seller={shelf.lyon.id}&category=mobility").get_json()["items"]
    assert item["photos"] == [{
        "url": f"http://localhost/media/products/{photo.filename}",
        "thumbnail_url": f"http://localhost/media/products/{photo.thumbnail}",
        "width": 80, "height": 60, "alt_text": "Un vélo vert",
    }]
    assert client.get(item["photos"][0]["url"].removeprefix("http://localhost")).status_code == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "mobility"}, ["Pompe à vélo", "Vélo de ville révisé"]),
        ({"category": "mobility-bikes"}, ["Vélo de ville révisé"]),
        ({"place": "saint-etienne"}, ["Bol en céramique", "Pompe à vélo"]),
        ({"place": "Saint-Étienne"}, ["Bol en céramique", "Pompe à vélo"]),
        ({"place": "42"}, ["Bol en céramique", "Pompe à vélo"]),
        ({"place": "Paris"}, []),
        ({"min_price_cents": 1000, "max_price_cents": 1500}, ["Bol en céramique"]),
        ({"min_price_cents": 1250}, ["Bol en céramique", "Pompe à vélo", "Vélo de ville révisé"]),
        ({"max_price_cents": 800}, ["Confiture de fraises", "Lot de trois livres de poche"]),
        ({"in_stock": "true"}, ["Bol en céramique", "Confiture de fraises", "Pompe à vélo",
                                "Vélo de ville révisé"]),
        ({"q": "velo"}, ["Pompe à vélo", "Vélo de ville révisé"]),
        ({"q": "VÉLOS"}, ["Pompe à vélo", "Vélo de ville révisé"]),
        ({"q": "livres"}, ["Lot de trois livres de poche"]),
        ({"q": "livre"}, ["Lot de trois livres de poche"]),
        ({"q": "***"}, []),
        ({"category": "", "seller": "", "q": ""}, ["Bol en céramique", "Confiture de fraises",
                                                  "Lot de trois livres de poche", "Pompe à vélo",
                                                  "Vélo de ville révisé"]),  # empty = no filter
    ],
)
def test_filters(client, shelf, params, expected):
    assert sorted(titles(client, **params)) == expected


def test_seller_filter_and_unknown_seller(client, shelf):
    assert sorted(titles(client, seller=shelf.loire.id)) == ["Bol en céramique", "Pompe à vélo"]
    assert titles(client, seller=shelf.pending.id) == []  # not on the marketplace: nothing
    assert titles(client, seller=987654) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Bol en céramique", "Pompe à vélo", "Confiture de fraises",
                    "Lot de trois livres de poche", "Vélo de ville révisé"]),
        ("price_asc", ["Confiture de fraises", "Lot de trois livres de poche", "Bol en céramique",
                       "Pompe à vélo", "Vélo de ville révisé"]),
        ("price_desc", ["Vélo de ville révisé", "Pompe à vélo", "Bol en céramique",
                        "Lot de trois livres de poche", "Confiture de fraises"]),
        ("title", ["Bol en céramique", "Confiture de fraises", "Lot de trois livres de poche",
                   "Pompe à vélo", "Vélo de ville révisé"]),
        ("relevance", ["Bol en céramique", "Pompe à vélo", "Confiture de fraises",
                       "Lot de trois livres de poche", "Vélo de ville révisé"]),  # no q: newest
    ],
)
def test_sort_orders(client, shelf, sort, expected):
    assert titles(client, sort=sort) == expected


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc", "title", "relevance"])
def test_cursor_walks_every_product_exactly_once(client, app, sort):
    products = build_walk(9)
    params = {"sort": sort, "limit": 2, **({"q": "solidaire"} if sort == "relevance" else {})}
    seen, prices, names, pages = [], [], [], 0
    while True:
        body = client.get("/api/v1/products", query_string=params).get_json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        prices += [item["price_cents"] for item in body["items"]]
        names += [item["title"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(seen) == sorted(p.id for p in products) and len(seen) == len(set(seen))
    assert pages == 5
    if sort == "price_asc":
        assert prices == sorted(prices)
    if sort == "price_desc":
        assert prices == sorted(prices, reverse=True)
    if sort == "title":
        assert names == sorted(names)
    if sort == "newest":
        assert seen == sorted(seen, reverse=True)


def test_limit(client, shelf):
    body = client.get("/api/v1/products?limit=3").get_json()
    assert len(body["items"]) == 3 and body["next_cursor"]
    assert len(client.get("/api/v1/products?limit=100").get_json()["items"]) == 5


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("sort=foo", "sort"),
        ("in_stock=maybe", "in_stock"),
        ("min_price_cents=-1", "min_price_cents"),
        ("max_price_cents=-100", "max_price_cents"),
        ("min_price_cents=12.50", "min_price_cents"),
        ("min_price_cents=99999999999999999999", "min_price_cents"),
        ("min_price_cents=500&max_price_cents=100", "max_price_cents"),
        ("seller=abc", "seller"),
        ("seller=0", "seller"),
        ("seller=99999999999999999999", "seller"),
        ("category=weapons", "category"),
        ("q=velo%00", "q"),
        ("place=" + "x" * 101, "place"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + cursor_of(["abc", 1]) + "&sort=price_asc", "cursor"),
        ("cursor=" + cursor_of([100, 1]) + "&sort=title", "cursor"),
        ("cursor=" + cursor_of([2**80]), "cursor"),
        ("cursor=" + cursor_of(["x\u0000", 1]) + "&sort=title", "cursor"),
    ],
)
def test_bad_parameters_are_a_json_400(client, shelf, query, parameter):
    assert_bad_request(client.get(f"/api/v1/products?{query}"), parameter)


def test_bad_parameter_messages_are_readable(client, shelf):
    body = assert_bad_request(client.get("/api/v1/products?limit=0&colour=red"))
    assert body["message"] == "Some parameters are not valid: see errors."
    assert body["errors"]["query"]["colour"] == ["Unknown parameter."]
    assert body["errors"]["query"]["limit"] == ["Must be between 1 and 100."]
    body = assert_bad_request(client.get("/api/v1/products?cursor=zz"))
    assert "cursor is invalid" in body["message"]


def test_product_detail(client, shelf):
    response = client.get(f"/api/v1/products/{shelf.jam.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Confiture de fraises"
    assert body["price_cents"] == 450 and body["currency"] == "EUR" and body["vat_rate_bp"] == 550
    assert body["is_perishable"] is True and body["stock"] is None


@pytest.mark.parametrize("which", ["archived", "hidden"])
def test_archived_or_pending_sellers_product_is_a_json_404(client, shelf, which):
    response = client.get(f"/api/v1/products/{getattr(shelf, which).id}")
    assert response.status_code == 404
    assert response.get_json() == {"status": 404,
                                   "message": "There is no product with this id on the marketplace."}


@pytest.mark.parametrize("path", ["/api/v1/products/424242", "/api/v1/products/99999999999999999999999",
                                  "/api/v1/products/abc", "/api/v1/nothing-here"])
def test_unknown_paths_and_ids_are_json_404(client, shelf, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["status"] == 404


def test_writes_are_refused_with_json_even_with_csrf_on(make_app, shelf):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/api/v1/products", json={"title": "x"})
    assert response.status_code == 405
    assert response.get_json()["status"] == 405
    assert client.get("/api/v1/products?limit=1").status_code == 200  # GETs need no token
