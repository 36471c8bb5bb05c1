"""Page views counted on the server (marketplace/audience.py): product pages and shopfronts,
rendered or served by the page cache, per day and referring domain; robots, HEAD requests,
prefetches and errors left out; nothing written until the batch is flushed."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from marketplace import audience
from marketplace.audience import INTERNAL, PageKind, PageViewDay
from marketplace.catalog.views import product_url
from marketplace.db import db
from tests.orders.shopper import build_shop

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def rows() -> dict:
    return {(r.kind, r.object_id, r.referrer): r.views
            for r in db.session.scalars(sa.select(PageViewDay))}


@pytest.fixture
def cached_app(make_app):
    app = make_app(CATALOG_CACHE_SECONDS=60, BABEL_DEFAULT_LOCALE="en")
    with app.app_context():
        yield app


def test_views_are_counted_from_the_page_cache_too_and_written_in_one_batch(cached_app):
    shop = build_shop()
    db.session.commit()
    client = cached_app.test_client()
    path = product_url(shop.lamp)
    first = client.get(path, headers=BROWSER)
    second = client.get(path, headers={**BROWSER, "Referer": "https://www.facebook.com/groups/x?id=1"})
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    client.get(f"/sellers/{shop.canal.slug}", headers={**BROWSER, "Referer": "http://localhost/products"})
    client.get(f"/sellers/{shop.canal.slug}", headers={**BROWSER, "Referer": "http://localhost/"})
    # Left out: robots, tools, no user agent, HEAD, prefetch, pages that do not exist.
    client.get(path, headers={"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    client.get(path, headers={"User-Agent": "curl/8.5.0"})
    client.get(path, headers={"User-Agent": ""})
    client.head(path, headers=BROWSER)
    client.get(path, headers={**BROWSER, "Sec-Purpose": "prefetch"})
    client.get("/products/999999", headers=BROWSER)
    client.get("/sellers/nobody", headers=BROWSER)
    assert rows() == {}  # nothing written on the requests' path
    assert audience.flush() == 3
    assert rows() == {
        (PageKind.PRODUCT.value, shop.lamp.id, ""): 1,
        (PageKind.PRODUCT.value, shop.lamp.id, "facebook.com"): 1,
        (PageKind.SHOPFRONT.value, shop.canal.id, INTERNAL): 2,
    }
    client.get(path, headers=BROWSER)
    audience.flush()  # adds to the day's row
    assert rows()[(PageKind.PRODUCT.value, shop.lamp.id, "")] == 2
    day = db.session.scalar(sa.select(PageViewDay.day).limit(1))
    assert day == datetime.now(UTC).date()
    assert audience.flush() == 0


@pytest.mark.parametrize(("referrer", "domain"), [
    (None, ""), ("", ""), ("not a url", ""), ("https://WWW.Example.ORG:8443/a/b?c", "example.org"),
    ("http://localhost/x", INTERNAL), ("https://[::1/", ""), ("https://ex ample.org/", ""),
    ("android-app://com.google.android.gm/", "com.google.android.gm"),
])
def test_only_the_referring_domain_is_kept(referrer, domain):
    assert audience.referrer_domain(referrer, "localhost") == domain


@pytest.mark.parametrize(("agent", "bot"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", False),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
    ("facebookexternalhit/1.1", True), ("python-requests/2.31", True), ("", True),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0", True),
])
def test_known_robots_are_recognised(agent, bot):
    assert audience.is_bot(agent) is bot


def test_counts_that_could_not_be_written_are_kept_for_the_next_try(cached_app, monkeypatch):
    shop = build_shop()
    db.session.commit()
    client = cached_app.test_client()
    client.get(product_url(shop.lamp), headers=BROWSER)

    def down(batch):
        raise RuntimeError("database away")

    monkeypatch.setattr(audience, "write", down)
    assert audience.flush() == 0
    monkeypatch.undo()
    assert audience.flush() == 1
    assert rows() == {(PageKind.PRODUCT.value, shop.lamp.id, ""): 1}


def test_counting_can_be_turned_off(make_app):
    app = make_app(AUDIENCE_ENABLED=False)
    with app.app_context():
        shop = build_shop()
        db.session.commit()
        app.test_client().get(product_url(shop.lamp), headers=BROWSER)
        assert audience.flush() == 0
