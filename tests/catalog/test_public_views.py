"""The public catalogue pages: listing filters and sorting, cursor pages, search, the product
page with its pickup slots, the seller's shopfront. Text is checked in English (the msgids);
amounts are also checked in French, the site's default language."""
from __future__ import annotations

import base64
import html
import json
import re

import pytest

from marketplace.catalog import services as catalog
from marketplace.db import db
from tests.api.shelf import add_location, add_slot, build_shelf, build_walk

NBSP = "\u00a0"


@pytest.fixture
def shelf(app):
    return build_shelf()


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def french(client):
    client.set_cookie("lang", "fr")
    return client


def page_of(response) -> str:
    return response.get_data(as_text=True)


def card_titles(response) -> list[str]:
    return [
        html.unescape(t)
        for t in re.findall(r'class="product-card-title"><a href="[^"]+">([^<]+)</a>', page_of(response))
    ]


def next_link(response) -> str | None:
    match = re.search(r'<a class="button" href="([^"]+)" rel="next">', page_of(response))
    return html.unescape(match.group(1)) if match else None


def listed(client, **params) -> list[str]:
    response = client.get("/products", query_string=params)
    assert response.status_code == 200
    return card_titles(response)


def cursor_of(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def assert_no_inline_code(page: str) -> None:
    """CSP allows only the site's own files: no inline script or style, no external asset."""
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)  # scripts are files of the site
    assert "style=" not in page and "<style" not in page
    assert not re.search(r'(src|href)="(https?:)?//(?!localhost)', page)


# --- listing -----------------------------------------------------------------------------------


def test_listing_shows_public_products_as_cards_with_price_seller_and_town(french, shelf):
    response = french.get("/products")
    page = page_of(response)
    assert sorted(card_titles(response)) == sorted(p.title for p in shelf.public)
    assert "Vélo caché" not in page and "Vélo archivé" not in page
    assert f"12,50{NBSP}€" in page  # French amounts by default
    assert "Atelier de la Loire · Saint-Étienne" in page
    assert 'class="product-card-photo photo-placeholder"' in page  # no photo: a CSS placeholder
    assert_no_inline_code(page)


def test_every_filter_has_a_label(english, shelf):
    page = page_of(english.get("/products"))
    form = page[page.index('<form class="filters"'):page.index("</form>", page.index('<form class="filters"'))]
    ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', form)
    assert len(ids) == 8
    for field_id in ids:
        assert f'<label for="{field_id}">' in form


def test_category_includes_its_sub_categories(client, shelf):
    assert sorted(listed(client, category="mobility")) == ["Pompe à vélo", "Vélo de ville révisé"]
    assert listed(client, category="mobility-bikes") == ["Vélo de ville révisé"]


def test_category_select_lists_the_tree_in_the_current_language(english, shelf):
    page = page_of(english.get("/products?category=mobility-parts"))
    assert '<option value="mobility">Bikes and mobility</option>' in page
    assert '<option value="mobility-parts" selected>&nbsp;&nbsp;&nbsp;Parts and accessories</option>' in page
    assert "<title>Parts and accessories" in page


@pytest.mark.parametrize("place", ["Saint-Étienne", "saint etienne", "SAINT-ETIENNE", "42", "42000"])
def test_place_matches_a_town_without_accents_or_a_postcode_prefix(client, shelf, place):
    assert sorted(listed(client, place=place)) == ["Bol en céramique", "Pompe à vélo"]


def test_place_without_seller_gives_a_helpful_message(english, shelf):
    response = english.get("/products?place=Paris")
    assert card_titles(response) == []
    assert "No product matches these filters." in page_of(response)
    assert 'href="/products">See all products</a>' in page_of(response)


def test_seller_filter(client, shelf):
    assert sorted(listed(client, seller=shelf.loire.id)) == ["Bol en céramique", "Pompe à vélo"]


@pytest.mark.parametrize("seller", ["abc", "-1", "99999999999999999999999"])
def test_unknown_seller_is_reported_and_ignored(english, shelf, seller):
    response = english.get("/products", query_string={"seller": seller})
    assert len(card_titles(response)) == 5
    assert "This seller is not on the marketplace" in page_of(response)


def test_a_pending_seller_cannot_be_chosen(english, shelf):
    response = english.get("/products", query_string={"seller": shelf.pending.id})
    assert "Vélo caché" not in card_titles(response)
    assert "This seller is not on the marketplace" in page_of(response)
    assert "Boutique en attente" not in page_of(response)  # nor offered in the select


def test_in_stock_only_keeps_unlimited_products(client, shelf):
    titles = listed(client, in_stock="1")
    assert "Lot de trois livres de poche" not in titles
    assert "Confiture de fraises" in titles and len(titles) == 4


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("10", "15,00", ["Bol en céramique"]),
        ("12,5", "", ["Bol en céramique", "Pompe à vélo", "Vélo de ville révisé"]),
        ("", "8", ["Confiture de fraises", "Lot de trois livres de poche"]),
        ("12.50 €", "12,50", ["Bol en céramique"]),
    ],
)
def test_price_range_in_euros(client, shelf, low, high, expected):
    assert sorted(listed(client, min_price=low, max_price=high)) == expected


@pytest.mark.parametrize("bad", ["douze", "-5", "12,505", "1e3"])
def test_a_price_that_is_not_an_amount_is_reported_and_ignored(english, shelf, bad):
    response = english.get("/products", query_string={"min_price": bad})
    assert response.status_code == 200
    page = page_of(response)
    assert len(card_titles(response)) == 5
    assert f"“{html.escape(bad)}” is not a price in euros" in page
    assert 'aria-invalid="true" aria-describedby="min_price-error"' in page
    assert 'id="min_price-error"' in page


def test_a_maximum_below_the_minimum_is_reported_and_ignored(english, shelf):
    response = english.get("/products?min_price=10&max_price=5")
    assert sorted(card_titles(response)) == ["Bol en céramique", "Pompe à vélo", "Vélo de ville révisé"]
    assert "The maximum price is below the minimum price" in page_of(response)


def test_unknown_category_is_reported_and_ignored(english, shelf):
    response = english.get("/products?category=weapons")
    assert len(card_titles(response)) == 5
    assert "This category does not exist" in page_of(response)


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
        ("nonsense", ["Bol en céramique", "Pompe à vélo", "Confiture de fraises",
                      "Lot de trois livres de poche", "Vélo de ville révisé"]),
    ],
)
def test_sort_orders(client, shelf, sort, expected):
    assert listed(client, sort=sort) == expected


def test_relevance_is_offered_only_when_searching(english, shelf):
    assert 'value="relevance"' not in page_of(english.get("/products"))
    assert '<option value="relevance" selected>' in page_of(english.get("/products?q=velo"))


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc", "title", "relevance"])
def test_next_page_links_walk_every_product_exactly_once(app, english, monkeypatch, sort):
    from marketplace.catalog import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    products = build_walk(9)
    seen: list[str] = []
    url = f"/products?sort={sort}&q=solidaire" if sort == "relevance" else f"/products?sort={sort}"
    pages = 0
    while url:
        response = english.get(url)
        assert response.status_code == 200
        seen += re.findall(r'href="/products/(\d+)-', page_of(response))
        assert ("Back to the first page" in page_of(response)) == (pages > 0)
        url, pages = next_link(response), pages + 1
    assert sorted(map(int, seen)) == sorted(p.id for p in products)
    assert pages == 5


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("newest", "not-a-cursor"),
        ("newest", cursor_of(["abc"])),
        ("newest", cursor_of([2**80])),
        ("newest", cursor_of([True])),
        ("newest", cursor_of({"id": 3})),
        ("price_asc", cursor_of(["abc", 1])),
        ("price_asc", cursor_of([100])),
        ("title", cursor_of([100, 1])),
        ("title", cursor_of(["Tasse\u0000", 1])),
        ("title", cursor_of(["x" * 500, 1])),
        ("newest", "W" * 5000),
        ("newest", cursor_of([[[[[1]]]]])),
    ],
)
def test_a_tampered_cursor_is_a_400_page_with_a_way_back(english, shelf, sort, cursor):
    response = english.get("/products", query_string={"sort": sort, "cursor": cursor, "q": ""})
    assert response.status_code == 400
    page = page_of(response)
    assert "This page link no longer works" in page
    assert f'href="/products?sort={sort}">Back to the first page</a>' in page


def test_empty_catalogue_says_so(english):
    assert "No product is on sale yet." in page_of(english.get("/products"))


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("velo", "Vélo de ville révisé"), ("VÉLOS", "Pompe à vélo"), ("livres", "Lot de trois livres de poche"),
     ("livre", "Lot de trois livres de poche")],
)
def test_listing_search_ignores_accents_and_plurals(client, shelf, query, expected):
    titles = listed(client, q=query)
    assert expected in titles
    assert "Vélo caché" not in titles and "Vélo archivé" not in titles


def test_header_search_finds_products_and_sellers(english, shelf):
    response = english.get("/search?q=velo")
    page = page_of(response)
    assert sorted(card_titles(response)) == ["Pompe à vélo", "Vélo de ville révisé"]
    assert "Vélo caché" not in page
    assert "Search results for “velo”" in page
    response = english.get("/search?q=loire")
    assert ">Atelier de la Loire</a></h3>" in page_of(response)
    assert "1 seller matches “loire”." in page_of(response)
    assert_no_inline_code(page)


def test_header_search_for_plurals(english, shelf):
    assert card_titles(english.get("/search?q=livres")) == ["Lot de trois livres de poche"]


def test_header_search_without_results_and_without_query(english, shelf):
    page = page_of(english.get("/search?q=trombone"))
    assert "No product matches “trombone”." in page
    assert "No seller matches “trombone”." in page
    assert "Type a product, a shop name" in page_of(english.get("/search"))
    assert english.get("/search?q=%00velo").status_code == 400  # a NUL byte: refused, not searched


# --- product page ------------------------------------------------------------------------------


def test_product_page_shows_price_vat_stock_seller_and_escaped_description(english, shelf):
    response = english.get(f"/products/{shelf.bike.id}")
    assert response.status_code == 200
    page = page_of(response)
    assert "<h1>Vélo de ville révisé</h1>" in page
    assert "€120.00" in page
    assert "Price including VAT (VAT rate: 20%)." in page
    assert "Only 1 left" in page
    assert f'href="/sellers/{shelf.lyon.slug}">Ressourcerie du Canal</a>' in page
    assert "69003 Lyon" in page
    assert 'class="keep-lines product-description">Cadre acier &lt;b&gt;solide&lt;/b&gt;\nFreins neufs' in page
    assert "no right of withdrawal" not in page
    assert "add to cart" not in page.lower()
    assert f'<link rel="canonical" href="http://localhost/products/{shelf.bike.id}-velo-de-ville-revise">' in page
    assert_no_inline_code(page)


def test_product_page_in_french_formats_the_amounts(french, shelf):
    page = page_of(french.get(f"/products/{shelf.jam.id}"))
    assert f"4,50{NBSP}€" in page
    assert "5,5" in page  # the VAT rate


@pytest.mark.parametrize(
    ("product", "status"),
    [("bike", "Only 1 left"), ("books", "Out of stock"), ("jam", "Available"), ("pump", "In stock")],
)
def test_stock_status(english, shelf, product, status):
    page = page_of(english.get(f"/products/{getattr(shelf, product).id}"))
    assert re.search(rf'class="product-stock">\s*<span class="stock [a-z-]+">{status}</span>', page)


def test_perishable_product_says_there_is_no_withdrawal_right(english, shelf):
    page = page_of(english.get(f"/products/{shelf.jam.id}"))
    assert "Perishable product: it cannot be returned, there is no right of withdrawal." in page
    assert "Price including VAT (VAT rate: 5.5%)." in page


def test_vat_exempt_seller_shows_the_exemption(english, shelf):
    shelf.lyon.vat_exempt = True
    db.session.commit()
    page = page_of(english.get(f"/products/{shelf.bike.id}"))
    assert "VAT not applicable, art. 293 B of the CGI" in page
    assert "VAT rate" not in page


def test_product_url_with_slug_and_redirect_when_the_title_changed(client, shelf):
    assert client.get(f"/products/{shelf.bike.id}-velo-de-ville-revise").status_code == 200
    response = client.get(f"/products/{shelf.bike.id}-old-title")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/products/{shelf.bike.id}-velo-de-ville-revise")


@pytest.mark.parametrize("which", ["archived", "hidden"])
def test_archived_products_and_pending_sellers_products_are_404(client, shelf, which):
    assert client.get(f"/products/{getattr(shelf, which).id}").status_code == 404


@pytest.mark.parametrize("product_id", ["0", "999999", "99999999999999999999999"])
def test_unknown_product_is_404(client, shelf, product_id):
    assert client.get(f"/products/{product_id}").status_code == 404


def test_product_photos_with_alt_text(app, english, shelf):
    from io import BytesIO

    from PIL import Image

    def png(colour):
        buffer = BytesIO()
        Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
        return buffer.getvalue()

    main = catalog.add_photo(shelf.bike, png("red"), alt_text="Vélo rouge vu de profil", by=None)
    second = catalog.add_photo(shelf.bike, png("blue"), alt_text="", by=None)
    db.session.commit()
    page = page_of(english.get(f"/products/{shelf.bike.id}"))
    assert re.search(rf'src="/media/products/{main.filename}"\s+alt="Vélo rouge vu de profil"', page)
    assert f'src="/media/products/{second.thumbnail}"' in page
    assert 'alt="Vélo de ville révisé"' in page  # a photo without its own text gets the title
    assert english.get(f"/media/products/{main.thumbnail}").status_code == 200
    listing_page = page_of(english.get("/products"))
    assert f'src="/media/products/{main.thumbnail}"' in listing_page


def test_product_page_lists_pickup_places_and_slots_with_their_state(english, shelf):
    shop = add_location(shelf.lyon, name="Boutique du Canal")
    add_location(shelf.lyon, name="Ancien dépôt", is_active=False)
    open_slot = add_slot(shop, in_hours=48, capacity=5, booked=2)
    full = add_slot(shop, in_hours=72, capacity=3, booked=3)
    past_cutoff = add_slot(shop, in_hours=1, cutoff_hours=2)
    closed = add_slot(shop, in_hours=96, closed_reason="Inventaire annuel")
    add_slot(shop, in_hours=24 * 20)  # beyond the 14 days shown
    db.session.commit()

    page = page_of(english.get(f"/products/{shelf.bike.id}"))
    assert "<h3>Boutique du Canal</h3>" in page
    assert "Ancien dépôt" not in page
    assert "14 rue Francis de Pressensé<br>69003 Lyon" in page
    assert '<dd class="keep-lines">Mardi-samedi 10h-18h\nFermé le lundi</dd>' in page
    assert "Sonnez à l&#39;interphone." in page
    assert "Pickup slots in the next 14 days" in page

    slots = re.findall(r'<li class="slot slot-([a-z-]+)">\s*<time datetime="([^"]+)">[^<]*</time>\s*'
                       r'<span class="slot-state">\s*([^<]*?)\s*</span>', page)
    states = {moment: (css, text) for css, moment, text in slots}
    assert len(slots) == 4
    assert states[open_slot.starts_at.isoformat()] == ("open", "3 places left")
    assert states[full.starts_at.isoformat()] == ("full", "Full")
    assert states[past_cutoff.starts_at.isoformat()] == ("past-cutoff", "Orders closed")
    assert states[closed.starts_at.isoformat()] == ("closed", "Closed: Inventaire annuel")
    assert [moment for _css, moment, _text in slots] == sorted(states)  # soonest first


def test_slot_times_are_shown_in_local_time(english, shelf):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from marketplace.db import utcnow
    from marketplace.pickup.models import PickupSlot

    shop = add_location(shelf.lyon)
    starts = (utcnow() + timedelta(days=2)).replace(hour=13, minute=0, second=0, microsecond=0)
    db.session.add(PickupSlot(location=shop, starts_at=starts, ends_at=starts + timedelta(hours=2),
                              capacity=4))
    db.session.commit()
    paris = ZoneInfo("Europe/Paris")
    start, end = (moment.astimezone(paris).strftime("%H:%M") for moment in (starts, starts + timedelta(hours=2)))
    assert start != "13:00"
    assert f"{start} to {end}" in page_of(english.get(f"/products/{shelf.bike.id}"))


def test_product_page_without_pickup_place(english, shelf):
    assert "This seller has not published a pickup place yet." in page_of(
        english.get(f"/products/{shelf.pump.id}"))


# --- seller shopfront --------------------------------------------------------------------------


def test_shopfront_shows_identity_status_products_and_pickup_places(english, shelf):
    add_location(shelf.lyon, name="Boutique du Canal")
    db.session.commit()
    response = english.get(f"/sellers/{shelf.lyon.slug}")
    page = page_of(response)
    assert "<h1>Ressourcerie du Canal</h1>" in page
    assert '<span class="badge">Association</span>' in page
    assert "<dt>RNA</dt>" in page
    assert sorted(card_titles(response)) == sorted(
        p.title for p in (shelf.bike, shelf.books, shelf.jam))
    assert "<h3>Boutique du Canal</h3>" in page
    assert "Mardi-samedi 10h-18h" in page
    assert_no_inline_code(page)


def test_shopfront_pages_through_its_products(app, english, monkeypatch):
    from marketplace.site import views

    monkeypatch.setattr(views, "SHOPFRONT_PAGE_SIZE", 4)
    products = build_walk(6)
    slug = products[0].organization.slug
    first = english.get(f"/sellers/{slug}")
    assert len(card_titles(first)) == 4
    second = english.get(next_link(first))
    assert len(card_titles(second)) == 2 and next_link(second) is None
    assert f'href="/sellers/{slug}">Back to the first page</a>' in page_of(second)
    assert english.get(f"/sellers/{slug}?cursor=nope").status_code == 400


def test_shopfront_of_a_pending_seller_is_404(client, shelf):
    assert client.get(f"/sellers/{shelf.pending.slug}").status_code == 404
