"""What an API client relies on beyond the data: a 405 says which methods are allowed, error
messages speak the client's language (French unless it asks for English), and the OpenAPI
document describes the cursor well enough that a generated client never sends junk."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from marketplace.errors import MESSAGES
from tests.api.shelf import build_shelf, build_walk


@pytest.fixture
def shelf(app):
    return build_shelf()


@pytest.fixture
def french_client(make_app):
    """An app whose default language is French, as in production (the tests of this package
    otherwise run with English as the default)."""
    return make_app(BABEL_DEFAULT_LOCALE="fr").test_client()


# --- 405 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/api/v1/products", {"GET", "HEAD", "OPTIONS"}),
        ("delete", "/api/v1/products/1", {"GET", "HEAD", "OPTIONS"}),
        ("put", "/api/v1/sellers", {"GET", "HEAD", "OPTIONS"}),
        ("post", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
        ("get", "/language", {"POST", "OPTIONS"}),  # an HTML page says it as well
    ],
)
def test_a_405_says_which_methods_are_allowed(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    if path.startswith("/api/"):
        assert response.get_json()["status"] == 405


# --- the language of the messages ------------------------------------------------------------

FRENCH = {
    "unknown product": "Il n'y a pas de produit avec cet identifiant sur la place de marché.",
    "invalid": "Certains paramètres ne sont pas valides\u00a0: voir le champ errors.",
}


def in_french(message) -> str:
    """A message of the whole site (its wording belongs to the site's pages), in French."""
    with force_locale("fr"):
        return str(message)


def test_error_messages_are_french_by_default(french_client, shelf):
    body = french_client.get("/api/v1/products/424242").get_json()
    assert body == {"status": 404, "message": FRENCH["unknown product"]}
    assert french_client.get("/api/v1/nothing-here").get_json()["message"] == in_french(MESSAGES[404])
    response = french_client.post("/api/v1/products")
    assert response.get_json()["message"] == in_french(MESSAGES[405])
    assert in_french(MESSAGES[405]) != str(MESSAGES[405])
    assert response.headers["Content-Language"] == "fr"

    body = french_client.get("/api/v1/products?limit=0&colour=red&in_stock=peut-etre&sort=x"
                             "&q=" + "x" * 101).get_json()
    assert body["message"] == FRENCH["invalid"]
    errors = body["errors"]["query"]
    assert errors["colour"] == ["Paramètre inconnu."]
    assert errors["limit"] == ["Doit être compris entre 1 et 100."]
    assert errors["in_stock"] == ["Ce n'est pas un booléen (true ou false)."]
    assert errors["sort"][0].startswith("Doit être l'une de ces valeurs\u00a0: relevance, newest")
    assert errors["q"] == ["100 caractères au plus."]
    body = french_client.get("/api/v1/products?min_price_cents=500&max_price_cents=100").get_json()
    assert body["errors"]["query"]["max_price_cents"] == ["Doit être supérieur ou égal à min_price_cents."]
    body = french_client.get("/api/v1/products?seller=abc").get_json()
    assert body["errors"]["query"]["seller"] == ["Ce n'est pas un nombre entier."]

    body = french_client.get("/api/v1/products?cursor=zz").get_json()
    assert body["status"] == 400
    assert body["message"].startswith("Le curseur n'est pas valide")
    assert body["errors"]["query"]["cursor"] == ["Curseur non valide."]


@pytest.mark.parametrize(
    ("headers", "query", "language"),
    [
        ({"Accept-Language": "en-GB,en;q=0.9"}, "", "en"),
        ({"Accept-Language": "de-DE,en;q=0.5"}, "", "en"),
        ({"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}, "", "fr"),
        ({}, "lang=en", "en"),
        ({"Accept-Language": "en"}, "lang=fr", "fr"),  # the parameter wins
        ({"Accept-Language": "de"}, "", "fr"),  # neither French nor English: the default
        ({"Cookie": "lang=en"}, "", "fr"),  # the site's cookie does not choose for the API
    ],
)
def test_the_client_chooses_english(french_client, shelf, headers, query, language):
    separator = "&" if query else ""
    response = french_client.get(f"/api/v1/products?limit=0&{query}{separator}colour=red", headers=headers)
    assert response.status_code == 400
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]
    body = response.get_json()
    if language == "en":
        assert body["message"] == "Some parameters are not valid: see errors."
        assert body["errors"]["query"] == {
            "colour": ["Unknown parameter."],
            "limit": ["Must be between 1 and 100."],
        }
    else:
        assert body["message"] == FRENCH["invalid"]
    detail = french_client.get(f"/api/v1/products/424242?{query}", headers=headers).get_json()
    assert detail["message"] == (
        "There is no product with this id on the marketplace." if language == "en" else FRENCH["unknown product"]
    )


def test_english_everywhere_the_api_answers(french_client, shelf):
    english = {"Accept-Language": "en"}
    assert french_client.get("/api/v1/nowhere", headers=english).get_json()["message"] == (
        "This page does not exist or was moved.")
    assert french_client.delete("/api/v1/sellers/1", headers=english).get_json()["message"] == (
        "This action is not allowed here.")
    assert french_client.get("/api/v1/sellers/999999?lang=en").get_json()["message"] == (
        "There is no seller with this id on the marketplace.")
    body = french_client.get("/api/v1/products?cursor=zz&lang=en").get_json()
    assert body["message"].startswith("The cursor is invalid")
    assert body["errors"]["query"]["cursor"] == ["Invalid cursor."]


def test_an_unknown_language_is_a_bad_parameter(french_client, shelf):
    response = french_client.get("/api/v1/products?lang=de")
    assert response.status_code == 400
    assert response.get_json()["errors"]["query"]["lang"] == ["Doit être l'une de ces valeurs\u00a0: fr, en."]


def test_the_site_keeps_its_own_language_choice(french_client, shelf):
    """Accept-Language chooses for the API only: the site is French until the shopper picks
    English in the footer."""
    page = french_client.get("/products", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fr"' in page


# --- the cursor in the OpenAPI document ------------------------------------------------------


def _parameter(spec: dict, path: str, name: str) -> dict:
    (found,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found


def test_the_cursor_is_described_for_generated_clients(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    cursor = _parameter(spec, "/api/v1/products", "cursor")
    schema = cursor["schema"]
    assert schema["type"] == "string"
    assert schema["pattern"] == "^[A-Za-z0-9_-]+$"
    assert schema["minLength"] == 1 and schema["maxLength"] == 1500
    assert "next_cursor" in cursor["description"] and "opaque" in cursor["description"].lower()
    assert "same" in cursor["description"]  # the same filters and sort
    assert re.fullmatch(schema["pattern"], schema["example"])

    page = spec["components"]["schemas"]["ProductPage"]["properties"]["next_cursor"]
    assert page["pattern"] == schema["pattern"] and page["maxLength"] == schema["maxLength"]
    assert page["nullable"] is True

    lang = _parameter(spec, "/api/v1/products", "lang")
    assert lang["schema"]["enum"] == ["fr", "en"]
    for path in ("/api/v1/products/{product_id}", "/api/v1/sellers", "/api/v1/sellers/{seller_id}"):
        assert _parameter(spec, path, "lang")["schema"]["enum"] == ["fr", "en"]


@pytest.mark.parametrize("sort", ["newest", "price_asc", "title", "relevance"])
def test_every_cursor_the_api_gives_fits_its_description(client, app, sort):
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = _parameter(spec, "/api/v1/products", "cursor")["schema"]
    build_walk(7)
    params = {"sort": sort, "limit": 2, **({"q": "solidaire"} if sort == "relevance" else {})}
    cursors = []
    while True:
        body = client.get("/api/v1/products", query_string=params).get_json()
        if body["next_cursor"] is None:
            break
        cursors.append(body["next_cursor"])
        params["cursor"] = body["next_cursor"]
    assert len(cursors) == 3
    for cursor in cursors:
        assert re.fullmatch(schema["pattern"], cursor) and len(cursor) <= schema["maxLength"]


@pytest.mark.parametrize("junk", ["a b", "abc=", "ab/cd+", "é", "x" * 1501])
def test_a_cursor_outside_its_description_is_refused_by_the_parameter_check(client, shelf, junk):
    response = client.get("/api/v1/products", query_string={"cursor": junk})
    assert response.status_code == 400
    assert "cursor" in response.get_json()["errors"]["query"]
