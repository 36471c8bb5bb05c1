"""GET /api/v1/sellers and /api/v1/sellers/<id>, and the OpenAPI document."""
from __future__ import annotations

import pytest

from marketplace.db import db
from marketplace.organizations.models import OrganizationKind
from tests import factories
from tests.api.shelf import add_location, build_shelf


@pytest.fixture
def shelf(app):
    return build_shelf()


def test_seller_list_has_only_approved_sellers(client, shelf):
    factories.make_organization(name="CSE Usine", kind=OrganizationKind.WORKS_COUNCIL)
    db.session.commit()
    body = client.get("/api/v1/sellers").get_json()
    assert [s["name"] for s in body["items"]] == ["Atelier de la Loire", "Ressourcerie du Canal"]
    assert body["total"] == 2 and body["page"] == 1 and body["next_page"] is None
    loire = body["items"][0]
    assert loire["id"] == shelf.loire.id
    assert loire["ess_status"] == "association" and loire["kind"] == "association"
    assert loire["url"] == f"http://localhost/sellers/{shelf.loire.slug}"
    assert loire["products_url"] == f"http://localhost/api/v1/products?seller={shelf.loire.id}"
    assert loire["rna"] == shelf.loire.rna


def test_seller_pages(client, app):
    for n in range(5):
        factories.make_organization(name=f"Boutique {n}")
    db.session.commit()
    first = client.get("/api/v1/sellers?per_page=2").get_json()
    assert [s["name"] for s in first["items"]] == ["Boutique 0", "Boutique 1"]
    assert first["total"] == 5 and first["next_page"] == 2
    last = client.get("/api/v1/sellers?per_page=2&page=3").get_json()
    assert [s["name"] for s in last["items"]] == ["Boutique 4"] and last["next_page"] is None
    assert client.get("/api/v1/sellers?per_page=2&page=9").get_json()["items"] == []


def test_seller_search(client, shelf):
    body = client.get("/api/v1/sellers?q=loire").get_json()
    assert [s["name"] for s in body["items"]] == ["Atelier de la Loire"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("page=0", "page"), ("per_page=101", "per_page"), ("per_page=0", "per_page"),
     ("page=two", "page"), ("sort=name", "sort"), ("q=%00", "q")],
)
def test_bad_seller_parameters_are_a_json_400(client, shelf, query, parameter):
    response = client.get(f"/api/v1/sellers?{query}")
    assert response.status_code == 400
    assert parameter in response.get_json()["errors"]["query"]


def test_seller_detail_with_pickup_locations(client, shelf):
    add_location(shelf.lyon, name="Boutique du Canal")
    add_location(shelf.lyon, name="Ancien dépôt", is_active=False)
    db.session.commit()
    body = client.get(f"/api/v1/sellers/{shelf.lyon.id}").get_json()
    assert body["name"] == "Ressourcerie du Canal"
    assert body["address_line"] and body["postcode"] == "69003"
    (location,) = body["pickup_locations"]
    assert location["name"] == "Boutique du Canal"
    assert location["opening_hours"] == "Mardi-samedi 10h-18h\nFermé le lundi"
    assert location["instructions"].startswith("Sonnez")


@pytest.mark.parametrize("which", ["pending", "works_council", "unknown", "huge"])
def test_non_public_or_unknown_seller_is_a_json_404(client, shelf, which):
    seller_id = {
        "pending": lambda: shelf.pending.id,
        "works_council": lambda: factories.make_organization(kind=OrganizationKind.WORKS_COUNCIL).id,
        "unknown": lambda: 424242,
        "huge": lambda: 10**25,
    }[which]()
    response = client.get(f"/api/v1/sellers/{seller_id}")
    assert response.status_code == 404
    assert response.get_json()["message"] == "There is no seller with this id on the marketplace."


def test_openapi_document_lists_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "ESS Marché API" and spec["info"]["version"] == "v1"
    paths = spec["paths"]
    for path in ("/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/sellers",
                 "/api/v1/sellers/{seller_id}"):
        assert "get" in paths[path], path
    parameters = {p["name"] for p in paths["/api/v1/products"]["get"]["parameters"]}
    assert parameters == {"q", "category", "place", "seller", "in_stock", "min_price_cents",
                          "max_price_cents", "sort", "cursor", "limit", "lang"}
    assert "400" in paths["/api/v1/products"]["get"]["responses"]
    assert "404" in paths["/api/v1/products/{product_id}"]["get"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"Product", "ProductPage", "Seller", "SellerDetail", "Error"} <= set(schemas)
    assert schemas["Product"]["properties"]["price_cents"]["type"] == "integer"
    assert schemas["Product"]["properties"]["url"]["format"] == "uri"


def test_no_documentation_ui_that_would_load_assets_from_the_internet(client):
    for path in ("/api/v1/swagger-ui", "/api/v1/redoc", "/api/v1/rapidoc"):
        assert client.get(path).status_code == 404
