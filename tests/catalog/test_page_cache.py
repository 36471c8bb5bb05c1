"""The public catalogue's page cache (marketplace/caching.py): who gets a cached page, the CSRF
token put back in for each visitor, invalidation by a seller's change, the short life that
bounds how stale the stock is, 304s, and the API's answers by language."""
from __future__ import annotations

import os
import re
import time

import pytest
from flask import g

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductStatus, StockReason
from marketplace.catalog.views import product_url
from marketplace.db import db
from marketplace.orders.models import Cart
from tests import factories
from tests.orders.shopper import build_shop
from tests.redis_db import exclusive_redis_db

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cached_app(make_app):
    app = make_app(CATALOG_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True, BABEL_DEFAULT_LOCALE="en")
    with app.app_context():
        yield app


@pytest.fixture
def market(cached_app):
    return build_shop()


def get(client, path, **kwargs):
    response = client.get(path, **kwargs)
    return response, response.headers.get("X-Cache")


def test_a_second_visitor_gets_the_cached_page_with_a_token_of_their_own_that_posts(
        cached_app, market):
    first, second = cached_app.test_client(), cached_app.test_client()
    path = product_url(market.lamp)
    page, state = get(first, path)
    assert (page.status_code, state) == (200, "miss")
    page2, state2 = get(second, path)
    assert (page2.status_code, state2) == (200, "hit")
    assert "ess_session=" in page2.headers["Set-Cookie"]  # the new visitor's CSRF secret
    tokens = TOKEN.findall(page2.get_data(as_text=True))
    assert len(tokens) == 2 and tokens[0] == tokens[1]  # add to cart, language switch
    assert tokens[0] not in page.get_data(as_text=True)
    # Apart from the token, the same page.
    assert page2.get_data(as_text=True).replace(tokens[0], "T") == TOKEN.sub(
        'name="csrf_token" value="T"', page.get_data(as_text=True))
    # The token works: the add to cart passes the CSRF check.
    added = second.post("/cart/add", data={"product_id": market.lamp.id, "quantity": 1,
                                           "csrf_token": tokens[0]})
    assert added.status_code == 302
    db.session.expire_all()
    assert [line.quantity for cart in db.session.scalars(db.select(Cart)) for line in cart.lines] == [1]
    # A token from someone else's page does not.
    other = TOKEN.search(page.get_data(as_text=True)).group(1)
    third = cached_app.test_client()
    get(third, path)
    refused = third.post("/cart/add", data={"product_id": market.lamp.id, "quantity": 1,
                                            "csrf_token": other})
    assert refused.status_code == 400


def test_the_language_switch_posts_from_a_cached_page(cached_app, market):
    client = cached_app.test_client()
    get(cached_app.test_client(), "/products")
    page, state = get(client, "/products")
    assert state == "hit"
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    switched = client.post("/language", data={"language": "fr", "next": "/products",
                                              "csrf_token": token})
    assert switched.status_code == 302
    page, state = get(client, "/products")
    assert state == "miss" and '<html lang="fr">' in page.get_data(as_text=True)


def test_each_page_and_language_has_its_own_entry(cached_app, market):
    client = cached_app.test_client()
    for path in ("/", "/products", "/products?sort=price_asc", product_url(market.lamp),
                 f"/sellers/{market.canal.slug}"):
        assert get(client, path)[1] == "miss"
        assert get(client, path)[1] == "hit"
    client.set_cookie("lang", "fr")
    page, state = get(client, "/products")
    assert state == "miss" and '<html lang="fr">' in page.get_data(as_text=True)
    page, state = get(client, "/products")
    assert state == "hit" and '<html lang="fr">' in page.get_data(as_text=True)


def test_a_logged_in_user_never_gets_nor_fills_a_cached_page(cached_app, market):
    shopper = factories.make_user(email="camille@example.org")
    client = cached_app.test_client()
    key = factories.make_session_key(shopper)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    page, state = get(client, "/products")
    assert state is None and 'action="/logout"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    visitor = cached_app.test_client()
    assert get(visitor, "/products")[1] == "miss"  # the user's page was not stored
    g.pop("_login_user", None)
    page, state = get(client, "/products")
    assert state is None and 'action="/logout"' in page.get_data(as_text=True)
    # Nor with only the remember-me cookie.
    remembered = cached_app.test_client()
    remembered.set_cookie("ess_remember", "anything")
    assert get(remembered, "/products")[1] is None


def test_a_visitor_with_a_cart_or_a_message_gets_their_own_page(cached_app, market):
    get(cached_app.test_client(), "/products")
    shopper = cached_app.test_client()
    token = TOKEN.search(get(shopper, "/products")[0].get_data(as_text=True)).group(1)
    shopper.post("/cart/add", data={"product_id": market.lamp.id, "quantity": 2,
                                    "csrf_token": token})
    page, state = get(shopper, "/products")
    assert state is None
    assert '<span class="badge" aria-hidden="true">2</span>' in page.get_data(as_text=True)
    with shopper.session_transaction() as session:
        session.pop("cart_token")
        session["_flashes"] = [("info", "Bonjour à vous")]
    page, state = get(shopper, "/products")
    assert state is None and "Bonjour à vous" in page.get_data(as_text=True)


def test_a_sellers_change_ends_the_cached_pages_at_once(cached_app, market):
    client = cached_app.test_client()
    path = product_url(market.lamp)
    for _ in range(2):
        get(client, path), get(client, "/api/v1/products")
    assert get(client, path)[1] == "hit" and get(client, "/api/v1/products")[1] == "hit"

    catalog.update_product(market.lamp, title="Lampe de bureau", description="",
                           price_cents=1790, vat_rate_bp=2000, category=market.lamp.category,
                           is_perishable=False, by=None)
    db.session.commit()
    page, state = get(client, path)
    assert state == "miss" and "17.90" in page.get_data(as_text=True)
    answer, state = get(client, "/api/v1/products")
    assert state == "miss"
    assert {p["price_cents"] for p in answer.json["items"] if p["id"] == market.lamp.id} == {1790}

    catalog.adjust_stock(market.lamp, reason=StockReason.MANUAL, new_stock=1, by=None)
    db.session.commit()
    page, state = get(client, path)
    assert state == "miss" and "Only 1 left" in page.get_data(as_text=True)

    catalog.set_status(market.lamp, ProductStatus.ARCHIVED, by=None)
    db.session.commit()
    assert get(client, path)[0].status_code == 404
    assert market.lamp.id not in [p["id"] for p in get(client, "/api/v1/products")[0].json["items"]]


def test_a_change_through_the_sellers_pages_ends_them_after_its_commit(cached_app, market):
    (backend,) = cached_app.extensions["cache"].values()
    before = backend.get("catalog:version") or 0
    with cached_app.test_request_context():
        from marketplace import uow

        uow.begin()
        catalog.set_status(market.lamp, ProductStatus.ARCHIVED, by=None)
        assert (backend.get("catalog:version") or 0) == before  # not before the commit
        uow.finish(True)
    assert backend.get("catalog:version") == before + 1


def test_stock_sold_shows_within_the_pages_short_life(make_app):
    app = make_app(CATALOG_CACHE_SECONDS=1, BABEL_DEFAULT_LOCALE="en")
    with app.app_context():
        market = build_shop()
        client = app.test_client()
        path = product_url(market.lamp)
        get(client, path)
        market.lamp.stock = 0  # sold at the counter: no invalidation
        db.session.commit()
        page, state = get(client, path)
        assert state == "hit" and "Out of stock" not in page.get_data(as_text=True)
        time.sleep(1.1)
        page, state = get(client, path)
        assert state == "miss" and "Out of stock" in page.get_data(as_text=True)


def test_if_none_match_gets_a_304(cached_app, market):
    client = cached_app.test_client()
    page, _ = get(client, "/products")
    etag = page.headers["ETag"]
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in page.headers["Vary"]
    again, state = get(client, "/products", headers={"If-None-Match": etag})
    assert (again.status_code, state, again.data) == (304, "hit", b"")
    # Another visitor's session never revalidates this page (its token is not theirs).
    stranger, _ = get(cached_app.test_client(), "/products", headers={"If-None-Match": etag})
    assert stranger.status_code == 200

    answer, _ = get(client, "/api/v1/products?lang=en")
    assert answer.headers["Cache-Control"] == "public, no-cache"
    assert answer.headers["Last-Modified"]
    again, state = get(client, "/api/v1/products?lang=en",
                       headers={"If-None-Match": answer.headers["ETag"]})
    assert (again.status_code, state) == (304, "hit")
    again, state = get(cached_app.test_client(), "/api/v1/products?lang=en",
                       headers={"If-Modified-Since": answer.headers["Last-Modified"]})
    assert (again.status_code, state) == (304, "hit")


def test_the_api_answers_each_language_from_its_own_entry(cached_app, market):
    client = cached_app.test_client()
    for _ in range(2):
        english = client.get("/api/v1/products/999999?lang=en")
        assert english.status_code == 404  # errors are never stored
        assert "X-Cache" not in english.headers
    for language in ("fr", "en", "fr", "en"):
        answer, state = get(client, "/api/v1/products", headers={"Accept-Language": language})
        assert answer.headers["Content-Language"] == language
        assert "Accept-Language" in answer.headers["Vary"]
    assert state == "hit"
    assert get(client, "/api/v1/products?lang=en")[1] == "miss"  # another address
    bad = client.get("/api/v1/products?limit=0&lang=en")
    assert bad.status_code == 400 and "X-Cache" not in bad.headers


def test_without_the_cache_nothing_is_stored(make_app):
    app = make_app(BABEL_DEFAULT_LOCALE="en")  # testing: CATALOG_CACHE_SECONDS = 0
    with app.app_context():
        build_shop()
        client = app.test_client()
        for _ in range(2):
            page = client.get("/products")
            assert page.status_code == 200 and "X-Cache" not in page.headers


REDIS_URL = os.environ.get("TEST_CACHE_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def two_nodes(make_app):
    """Two apps (two web nodes) sharing the page cache in Redis."""
    with exclusive_redis_db(REDIS_URL, "ess-marche-page-cache-test"):
        settings = {"CATALOG_CACHE_SECONDS": 60, "REDIS_URL": REDIS_URL,
                    "BABEL_DEFAULT_LOCALE": "en", "CELERY_BROKER_URL": None}
        yield make_app(**settings), make_app(**settings)


def test_nodes_share_the_pages_and_see_a_change_within_a_second(two_nodes):
    one, two = two_nodes
    assert one.config["CACHE_TYPE"] == "RedisCache"
    with one.app_context():
        market = build_shop()
        path, lamp_id = product_url(market.lamp), market.lamp.id
        assert get(one.test_client(), path)[1] == "miss"
        assert get(one.test_client(), path)[1] == "hit"  # from the process's own copy
    with two.app_context():
        assert get(two.test_client(), path)[1] == "hit"  # rendered by the other node
    with one.app_context():
        lamp = db.session.get(Product, lamp_id)
        catalog.update_product(lamp, title=lamp.title, description="", price_cents=1790,
                               vat_rate_bp=2000, category=lamp.category, is_perishable=False,
                               by=None)
        db.session.commit()
        page, state = get(one.test_client(), path)
        assert state == "miss" and "17.90" in page.get_data(as_text=True)
    with two.app_context():
        time.sleep(1.1)  # CATALOG_CACHE_LOCAL_SECONDS
        page, state = get(two.test_client(), path)
        assert "17.90" in page.get_data(as_text=True)


def test_a_change_rolled_back_ends_nothing(cached_app, market):
    (backend,) = cached_app.extensions["cache"].values()
    before = backend.get("catalog:version") or 0
    with cached_app.test_request_context():
        from marketplace import uow

        uow.begin()
        catalog.set_status(market.lamp, ProductStatus.ARCHIVED, by=None)
        uow.finish(False)
    assert (backend.get("catalog:version") or 0) == before
    db.session.expire_all()
    assert market.lamp.status == ProductStatus.ACTIVE
