"""marshmallow schemas of the public API: query parameters in, products and sellers out.

Amounts are integer cents with their currency; every link is an absolute URL (photos, the
HTML pages, the API's own resources), so a client never builds one by hand.
"""
from __future__ import annotations

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from marketplace.catalog.categories import category_rows
from marketplace.catalog.listing import DEFAULT_PAGE_SIZE, MAX_KEY_INT, MAX_PAGE_SIZE, SORTS
from marketplace.organizations.models import EssStatus, OrganizationKind

MAX_TEXT_PARAM = 100
MAX_PAGE = 10_000
SELLERS_PER_PAGE = 20


def _no_nul(value: str) -> None:
    # PostgreSQL cannot compare text holding NUL: refuse it here rather than fail later.
    if "\x00" in value:
        raise ma.ValidationError("Must not contain a NUL character.")


def _text_param(description: str) -> fields.String:
    return fields.String(
        validate=[validate.Length(max=MAX_TEXT_PARAM), _no_nul], metadata={"description": description}
    )


def _url(description: str) -> dict:
    return {"type": "string", "format": "uri", "description": description}


class _QuerySchema(ma.Schema):
    @ma.pre_load
    def drop_empty_values(self, data, **kwargs):
        """`?category=&seller=` (an HTML form's empty fields) means no filter, not an error."""
        return {key: value for key, value in data.items() if value != ""}


# --- query parameters --------------------------------------------------------------------------


class ProductQuerySchema(_QuerySchema):
    q = _text_param("Words to search for (accents, case and plurals are ignored).")
    category = fields.String(
        validate=validate.OneOf([row.slug for row in category_rows()]),
        metadata={"description": "A category slug; its sub-categories are included."},
    )
    place = _text_param("A town (accents and case ignored) or a postcode or its first digits.")
    seller = fields.Integer(
        validate=validate.Range(min=1, max=MAX_KEY_INT),
        metadata={"description": "A seller's id. An unknown seller gives an empty list."},
    )
    in_stock = fields.Boolean(
        load_default=False, metadata={"description": "Only products that can be bought now."}
    )
    min_price_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_KEY_INT))
    max_price_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_KEY_INT))
    sort = fields.String(
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "Defaults to relevance when searching (q), else newest. Relevance "
            "puts a word found in the title above one found in the category, and both above "
            "one found in the description or the seller's name; without q it orders by newest."
        },
    )
    cursor = fields.String(
        validate=validate.Length(max=1500),
        metadata={"description": "The next_cursor of the previous page, with the same filters."},
    )
    limit = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )

    @ma.validates_schema
    def prices_in_order(self, data, **kwargs):
        low, high = data.get("min_price_cents"), data.get("max_price_cents")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError(
                "Must be greater than or equal to min_price_cents.", "max_price_cents"
            )


class SellerQuerySchema(_QuerySchema):
    q = _text_param("Part of a seller's name, town, postcode or description.")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=SELLERS_PER_PAGE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


# --- responses -------------------------------------------------------------------------------


class ErrorSchema(ma.Schema):
    """Every error under /api/ has this shape (the site's own error handler makes the same)."""

    status = fields.Integer(metadata={"description": "The HTTP status code."})
    message = fields.String(metadata={"description": "What went wrong, for a human."})
    errors = fields.Dict(
        metadata={"description": "Field errors by location, e.g. {\"query\": {\"limit\": [...]}}."}
    )


class CategorySchema(ma.Schema):
    slug = fields.String()
    name_fr = fields.String()
    name_en = fields.String()
    parent_slug = fields.Function(
        lambda c: c.parent.slug if c.parent else None, metadata={"type": "string", "nullable": True}
    )


class PhotoSchema(ma.Schema):
    url = fields.Function(
        lambda p: url_for("catalog.photo", filename=p.filename, _external=True),
        metadata=_url("The photo, at most 1600 pixels wide."),
    )
    thumbnail_url = fields.Function(
        lambda p: url_for("catalog.photo", filename=p.thumbnail, _external=True),
        metadata=_url("A small square-ish thumbnail."),
    )
    width = fields.Integer()
    height = fields.Integer()
    alt_text = fields.String()


class SellerSummarySchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    postcode = fields.String()
    town = fields.String()
    ess_status = fields.Enum(EssStatus, by_value=True)
    url = fields.Function(
        lambda o: url_for("site.seller", slug=o.slug, _external=True),
        metadata=_url("The seller's shopfront page."),
    )
    api_url = fields.Function(
        lambda o: url_for("api_sellers.seller", seller_id=o.id, _external=True),
        metadata=_url("This seller in the API."),
    )


class ProductSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String(metadata={"description": "Plain text; keep its line breaks."})
    price_cents = fields.Integer(metadata={"description": "Price including VAT, in cents."})
    currency = fields.Constant("EUR", metadata={"type": "string", "enum": ["EUR"]})
    vat_rate_bp = fields.Integer(
        metadata={"description": "VAT rate in hundredths of a percent: 550 is 5.5 %."}
    )
    stock = fields.Integer(
        allow_none=True, metadata={"description": "Units on the shelf; null means unlimited."}
    )
    in_stock = fields.Function(
        lambda p: p.stock is None or p.stock > 0, metadata={"type": "boolean"}
    )
    is_perishable = fields.Boolean(
        metadata={"description": "Perishable goods carry no right of withdrawal."}
    )
    category = fields.Nested(CategorySchema)
    seller = fields.Nested(SellerSummarySchema, attribute="organization")
    photos = fields.List(fields.Nested(PhotoSchema), metadata={"description": "Main photo first."})
    url = fields.Function(
        lambda p: url_for("catalog.product", product_id=p.id, _external=True),
        metadata=_url("The product's page on the marketplace."),
    )
    api_url = fields.Function(
        lambda p: url_for("api_products.product", product_id=p.id, _external=True),
        metadata=_url("This product in the API."),
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ProductPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ProductSchema))
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "Pass it as `cursor` (same filters) for the next page; null on the last."},
    )


class PickupLocationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    address_line = fields.String()
    postcode = fields.String()
    town = fields.String()
    instructions = fields.String()
    opening_hours = fields.String(metadata={"description": "Plain text, as the seller wrote it."})


class SellerSchema(SellerSummarySchema):
    kind = fields.Enum(OrganizationKind, by_value=True)
    legal_form = fields.String(allow_none=True)
    siret = fields.String(allow_none=True)
    rna = fields.String(allow_none=True)
    description = fields.String()
    address_line = fields.String()
    vat_exempt = fields.Boolean()
    website = fields.String(allow_none=True)
    products_url = fields.Function(
        lambda o: url_for("api_products.products", seller=o.id, _external=True),
        metadata=_url("This seller's products in the API."),
    )


class SellerDetailSchema(SellerSchema):
    pickup_locations = fields.List(fields.Nested(PickupLocationSchema))


class SellerPageSchema(ma.Schema):
    items = fields.List(fields.Nested(SellerSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    next_page = fields.Integer(allow_none=True, metadata={"description": "null on the last page."})

