"""GET /api/v1/sellers and /api/v1/sellers/<id>: the approved sellers and their pickup points."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from marketplace.api import setup_blueprint
from marketplace.api.schemas import (
    LanguageQuerySchema,
    SellerDetailSchema,
    SellerPageSchema,
    SellerQuerySchema,
)
from marketplace.catalog.listing import MAX_KEY_INT
from marketplace.organizations import services as organizations
from marketplace.pickup import services as pickup

blp = Blueprint(
    "api_sellers", __name__, url_prefix="/api/v1/sellers",
    description="Approved sellers (associations and social enterprises).",
)
setup_blueprint(blp)


@blp.route("", tags=["sellers"])
@blp.arguments(SellerQuerySchema, location="query", error_status_code=400, unknown="raise")
@blp.response(200, SellerPageSchema)
def sellers(args: dict):
    """Approved sellers by name, page by page; a page after the last one is empty."""
    page, per_page = args["page"], args["per_page"]
    items, total = organizations.public_sellers_page(
        query=(args.get("q") or "").strip() or None, page=page, per_page=per_page)
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "next_page": page + 1 if page * per_page < total else None,
    }


@blp.route("/<int:seller_id>", tags=["sellers"])
@blp.arguments(LanguageQuerySchema, location="query", error_status_code=400)
@blp.response(200, SellerDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def seller(args: dict, seller_id: int):
    """One approved seller, with its active pickup locations and their opening hours."""
    found = None
    if seller_id <= MAX_KEY_INT:
        found = organizations.get_public_seller_by_id(seller_id)
    if found is None:
        abort(404, message=_("There is no seller with this id on the marketplace."))
    # Not a mapped attribute: what SellerDetailSchema dumps for this response only.
    found.pickup_locations = pickup.locations_of(found.id, active_only=True)
    return found
