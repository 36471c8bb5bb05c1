"""GET /api/v1/products and /api/v1/products/<id>: the public catalogue, as on the site."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from marketplace.api import setup_blueprint
from marketplace.api.schemas import (
    LanguageQuerySchema,
    ProductPageSchema,
    ProductQuerySchema,
    ProductSchema,
)
from marketplace.catalog import listing

blp = Blueprint(
    "api_products", __name__, url_prefix="/api/v1/products",
    description="Active products of approved sellers.",
)
setup_blueprint(blp)


@blp.route("", tags=["products"])
@blp.arguments(ProductQuerySchema, location="query", error_status_code=400, unknown="raise")
@blp.response(200, ProductPageSchema)
def products(args: dict):
    """Search and filter products, one page at a time.

    Follow `next_cursor` (with the same filters) until it is null to walk every product once.
    """
    q = (args.get("q") or "").strip()
    filters = listing.ProductFilters(
        q=q,
        category=args.get("category"),
        place=(args.get("place") or "").strip() or None,
        seller_id=args.get("seller"),
        in_stock=args["in_stock"],
        min_price_cents=args.get("min_price_cents"),
        max_price_cents=args.get("max_price_cents"),
        sort=args.get("sort") or ("relevance" if q else "newest"),
        cursor=args.get("cursor"),
        limit=args["limit"],
    )
    try:
        page = listing.list_products(filters)
    except listing.InvalidCursor:
        abort(400, message=_("The cursor is invalid: it must be a next_cursor given by this API "
                             "for the same sort. Start again without a cursor."),
              errors={"query": {"cursor": [_("Invalid cursor.")]}})
    if "category" in page.unknown:  # the database lacks a category of the fixed tree
        abort(400, errors={"query": {"category": [_("Unknown category.")]}})
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/<int:product_id>", tags=["products"])
@blp.arguments(LanguageQuerySchema, location="query", error_status_code=400)
@blp.response(200, ProductSchema)
@blp.alt_response(404, response="NOT_FOUND")
def product(args: dict, product_id: int):
    """One product, if it is on sale: archived products and those of sellers that are not
    approved answer 404."""
    found = listing.get_public_product(product_id)
    if found is None:
        abort(404, message=_("There is no product with this id on the marketplace."))
    return found
