"""Public catalogue pages: listing with filters and search, product page, product photos."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_percent
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace import audience, caching
from marketplace.catalog import listing, search
from marketplace.catalog.listing import InvalidCursor, ProductFilters
from marketplace.catalog.services import category_tree, hides_when_unavailable
from marketplace.db import db
from marketplace.money import parse_amount
from marketplace.organizations import services as organizations
from marketplace.urls import external_url

bp = Blueprint("catalog", __name__)

PAGE_SIZE = 24
MAX_TEXT_LENGTH = 100
LOW_STOCK = 3  # "only 3 left" and below
TRUE_VALUES = {"1", "on", "true", "yes", "y"}
FILTER_FIELDS = ("q", "category", "place", "seller", "in_stock", "min_price", "max_price", "sort")

# Anonymous visitors get these from the shared cache (marketplace/caching.py).
caching.cacheable("catalog.products", variant=caching.visitor_language)
caching.cacheable("catalog.product", variant=caching.visitor_language)
# Their views are counted, served from the cache or not (marketplace/audience.py).
audience.countable("catalog.product", audience.PageKind.PRODUCT, key=lambda args: int(args["product_id"]))


def clean_text(value: str | None) -> str:
    """A short free-text parameter: trimmed, capped, without NUL (which PostgreSQL refuses)."""
    return (value or "").replace("\x00", "").strip()[:MAX_TEXT_LENGTH]


def product_slug(product) -> str:
    return "-".join(search.words(product.title))[:60].strip("-") or "product"


def product_url(product, *, external: bool = False, **kwargs) -> str:
    """The product's page (with its title in the address); at the public address if external."""
    build = external_url if external else url_for
    return build("catalog.product", product_id=product.id, slug=product_slug(product), **kwargs)


def stock_level(product) -> str:
    """unlimited, out, low (LOW_STOCK or fewer) or in_stock: what the page tells the shopper."""
    if product.stock is None:
        return "unlimited"
    if product.stock <= 0:
        return "out"
    if hides_when_unavailable(product) and product.stock - product.held_units <= 0:
        return "out"  # a one-off item held by a checkout: it comes back if not paid
    return "low" if product.stock <= LOW_STOCK else "in_stock"


@bp.app_template_filter("vat_rate")
def vat_rate(basis_points: int) -> str:
    """2000 -> '20 %', 550 -> '5,5 %' in French ('5.5%' in English)."""
    return format_percent(
        Decimal(basis_points).scaleb(-4), locale=get_locale(), decimal_quantization=False
    )


bp.add_app_template_global(product_url, "product_url")
bp.add_app_template_global(stock_level, "stock_level")


# --- the filter form -------------------------------------------------------------------------


@dataclass
class FilterForm:
    """What the shopper typed (shown back in the form), the filters understood from it, and a
    message for each value that could not be used (that filter is then left out)."""

    values: dict[str, str]
    filters: ProductFilters
    errors: dict[str, str] = field(default_factory=dict)

    def query_args(self, **extra) -> dict[str, str]:
        """The accepted filters as query parameters, for the pagination links."""
        args = {
            name: value for name, value in self.values.items() if value and name not in self.errors
        }
        args.update({k: v for k, v in extra.items() if v})
        return args

    @property
    def active(self) -> bool:
        return any(self.values.get(name) for name in FILTER_FIELDS if name != "sort")

    @property
    def active_count(self) -> int:
        """How many filters apply (the words searched for count as one; the sort does not)."""
        return sum(
            1 for name in FILTER_FIELDS
            if name != "sort" and self.values.get(name) and name not in self.errors
        )


def read_filters(args: Mapping[str, str], *, category_slugs: set[str], seller_ids: set[int]) -> FilterForm:
    values = {name: clean_text(args.get(name)) for name in FILTER_FIELDS}
    values["in_stock"] = "1" if values["in_stock"].lower() in TRUE_VALUES else ""
    form = FilterForm(values=values, filters=ProductFilters(q=values["q"], limit=PAGE_SIZE))
    filters, errors = form.filters, form.errors

    if values["category"]:
        if values["category"] in category_slugs:
            filters.category = values["category"]
        else:
            errors["category"] = _("This category does not exist: products of every category are shown.")
    filters.place = values["place"] or None
    if values["seller"]:
        text = values["seller"]
        seller_id = int(text) if text.isascii() and text.isdigit() else None
        if seller_id in seller_ids:
            filters.seller_id = seller_id
        else:
            errors["seller"] = _("This seller is not on the marketplace: products of every seller are shown.")
    filters.in_stock = bool(values["in_stock"])
    for name, attribute in (("min_price", "min_price_cents"), ("max_price", "max_price_cents")):
        if values[name]:
            try:
                setattr(filters, attribute, parse_amount(values[name]))
            except ValueError:
                errors[name] = _(
                    "“%(value)s” is not a price in euros (for example 12,50): this limit was ignored.",
                    value=values[name],
                )
    low, high = filters.min_price_cents, filters.max_price_cents
    if low is not None and high is not None and low > high:
        errors["max_price"] = _("The maximum price is below the minimum price: it was ignored.")
        filters.max_price_cents = None

    default_sort = "relevance" if filters.q else "newest"
    sort = values["sort"] if values["sort"] in listing.SORTS else default_sort
    if sort == "relevance" and not filters.q:
        sort = "newest"
    values["sort"] = filters.sort = sort
    filters.cursor = (args.get("cursor") or "").strip() or None
    return form


def sort_choices(searching: bool) -> list[tuple[str, str]]:
    choices = [
        ("newest", _("Newest first")),
        ("price_asc", _("Price: lowest first")),
        ("price_desc", _("Price: highest first")),
        ("title", _("Name, A to Z")),
    ]
    if searching:
        choices.insert(0, ("relevance", _("Best match")))
    return choices


def invalid_cursor_page(first_page_url: str):
    return render_template("catalog/invalid_cursor.html", first_page_url=first_page_url), 400


# --- pages -----------------------------------------------------------------------------------


@bp.get("/products")
def products():
    categories = category_tree()
    sellers = db.session.scalars(organizations.public_sellers()).all()
    form = read_filters(
        request.args,
        category_slugs={c.slug for root in categories for c in (root, *root.children)},
        seller_ids={s.id for s in sellers},
    )
    try:
        page = listing.list_products(form.filters)
    except InvalidCursor:
        return invalid_cursor_page(url_for(".products", **form.query_args()))
    return render_template(
        "catalog/products.html",
        form=form,
        page=page,
        categories=categories,
        sellers=sellers,
        sorts=sort_choices(bool(form.filters.q)),
        next_url=url_for(".products", **form.query_args(cursor=page.next_cursor)) if page.next_cursor else None,
        first_url=url_for(".products", **form.query_args()) if form.filters.cursor else None,
    )


@bp.get("/products/<int:product_id>")
@bp.get("/products/<int:product_id>-<slug>")  # registered first: url_for with a slug picks it
def product(product_id: int, slug: str | None = None):
    found = listing.get_public_product(product_id)
    if found is None:
        abort(404)
    if slug is not None and slug != product_slug(found):
        return redirect(product_url(found), 301)  # the title changed: the link still works
    # The pickup places and slots come from pickup's `pickup_next_slots` template global.
    return render_template("catalog/product.html", product=found, seller=found.organization)


@bp.get("/media/products/<filename>")
def photo(filename: str):
    """Uploaded product photos (re-encoded JPEGs); send_from_directory refuses path tricks."""
    if not filename.endswith(".jpg"):
        abort(404)
    response = send_from_directory(
        current_app.config["UPLOAD_DIR"] + "/products", filename, max_age=30 * 24 * 3600
    )
    response.headers["Cache-Control"] = "public, max-age=2592000, immutable"
    return response
