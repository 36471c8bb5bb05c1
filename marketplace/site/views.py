"""Public pages: home, search, seller shopfront, legal pages, language switch."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace import audience, caching
from marketplace.catalog import listing
from marketplace.catalog.services import category_tree
from marketplace.db import db
from marketplace.i18n import LANG_COOKIE, current_locale_code
from marketplace.insights import impact
from marketplace.insights import report as impact_report
from marketplace.organizations import services as organizations
from marketplace.pickup import services as pickup
from marketplace.urls import safe_next

bp = Blueprint("site", __name__)

LEGAL_PAGES = ("notice", "terms", "privacy", "accessibility")
FEATURED_PRODUCTS = 8
SEARCH_PRODUCTS = 12
SHOPFRONT_PAGE_SIZE = 24

# Anonymous visitors get these from the shared cache (marketplace/caching.py).
caching.cacheable("site.home", variant=caching.visitor_language)
caching.cacheable("site.seller", variant=caching.visitor_language)
# The shopfront's views are counted, served from the cache or not (marketplace/audience.py).
audience.countable("site.seller", audience.PageKind.SHOPFRONT, key=lambda args: args["slug"],
                   resolve=organizations.ids_of_slugs)


@bp.get("/")
def home():
    featured = listing.list_products(listing.ProductFilters(in_stock=True, limit=FEATURED_PRODUCTS))
    sellers = db.session.scalars(organizations.public_sellers().limit(24)).all()
    return render_template(
        "site/home.html", products=featured.items, categories=category_tree(), sellers=sellers
    )


@bp.get("/search")
def search():
    """The header's search box: matching products first, then matching sellers."""
    query = request.args.get("q", "").replace("\x00", "").strip()[:100]
    products, more_products, sellers = [], False, []
    if query:
        found = listing.list_products(
            listing.ProductFilters(q=query, sort="relevance", limit=SEARCH_PRODUCTS)
        )
        products, more_products = found.items, found.next_cursor is not None
        sellers = db.session.scalars(organizations.public_sellers(query=query).limit(50)).all()
    return render_template(
        "site/search.html", query=query, products=products, more_products=more_products, sellers=sellers
    )


@bp.get("/sellers/<slug>")
def seller(slug: str):
    organization = organizations.get_public_seller(slug)
    if organization is None:
        abort(404)
    cursor = request.args.get("cursor", "").strip() or None
    try:
        page = listing.list_products(
            listing.ProductFilters(seller_id=organization.id, cursor=cursor, limit=SHOPFRONT_PAGE_SIZE)
        )
    except listing.InvalidCursor:
        first_page_url = url_for(".seller", slug=slug)
        return render_template("catalog/invalid_cursor.html", first_page_url=first_page_url), 400
    return render_template(
        "site/seller.html",
        seller=organization,
        page=page,
        next_url=url_for(".seller", slug=slug, cursor=page.next_cursor) if page.next_cursor else None,
        first_url=url_for(".seller", slug=slug) if cursor else None,
        locations=pickup.locations_of(organization.id, active_only=True),
        impact_line=impact_report.shopfront_line(impact.seller_impact(organization.id)),
    )


@bp.get("/legal/<page>")
def legal(page: str):
    if page not in LEGAL_PAGES:
        abort(404)

    return render_template(f"site/legal/{current_locale_code()}/{page}.html", page=page)


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    response = redirect(safe_next(request.form.get("next")))
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    if current_user.is_authenticated and current_user.locale != language:
        current_user.locale = language  # the request's unit of work commits it
    return response
