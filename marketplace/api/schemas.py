"""marshmallow schemas of the public API: query parameters in, products and sellers out.

Amounts are integer cents with their currency; every link is an absolute URL (photos, the
HTML pages, the API's own resources), so a client never builds one by hand. The messages of
parameter errors are translated (lazily: in the language of the request, see api/__init__.py).
"""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import fields, validate

from marketplace.catalog.categories import category_rows
from marketplace.catalog.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_LENGTH,
    MAX_KEY_INT,
    MAX_PAGE_SIZE,
    SORTS,
    encode_cursor,
)
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.models import EssStatus, OrganizationKind
from marketplace.urls import external_url

MAX_TEXT_PARAM = 100
MAX_PAGE = 10_000
SELLERS_PER_PAGE = 20
API_LANGUAGES = ("fr", "en")  # the site's LANGUAGES, French first (the default)
# What encode_cursor() makes: URL-safe base64 without padding.
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"
CURSOR_DESCRIPTION = (
    "Opaque: the `next_cursor` of the previous page, passed unchanged, with the same filters "
    "and the same sort; leave it out for the first page. Never build or change one: a cursor "
    "that this API did not give, or given for another sort, answers 400 (start again without "
    "it), and with other filters the pages would skip or repeat products. It does not expire. "
    f"URL-safe base64 without padding, 1 to {MAX_CURSOR_LENGTH} characters."
)

# marshmallow's own messages, translated. Only the keys a query parameter can meet.
FIELD_MESSAGES = {
    "required": _l("This parameter is required."),
    "null": _l("Must not be null."),
    "validator_failed": _l("Invalid value."),
}


class _TranslatedErrors:
    def make_error(self, key: str, **kwargs) -> ma.ValidationError:
        # marshmallow formats a message, and puts it in a list, only when it is a str: the
        # lazy one becomes text here, in the request's language.
        return ma.ValidationError(str(self.error_messages[key]).format(**kwargs))


class String(_TranslatedErrors, fields.String):
    default_error_messages = {**FIELD_MESSAGES, "invalid": _l("Not a text."),
                              "invalid_utf8": _l("Not a valid UTF-8 text.")}


class Integer(_TranslatedErrors, fields.Integer):
    default_error_messages = {**FIELD_MESSAGES, "invalid": _l("Not a whole number."),
                              "too_large": _l("This number is too large.")}


class Boolean(_TranslatedErrors, fields.Boolean):
    default_error_messages = {**FIELD_MESSAGES, "invalid": _l("Not a boolean (true or false).")}


def _range(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=_l("Must be between {min} and {max}."))


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=_l("Must be one of: {choices}."))


def _no_nul(value: str) -> None:
    # PostgreSQL cannot compare text holding NUL: refuse it here rather than fail later.
    if "\x00" in value:
        raise ma.ValidationError(_("Must not contain a NUL character."))


def _text_param(description: str) -> fields.String:
    return String(
        validate=[validate.Length(max=MAX_TEXT_PARAM, error=_l("At most {max} characters.")), _no_nul],
        metadata={"description": description},
    )


def _url(description: str) -> dict:
    return {"type": "string", "format": "uri", "description": description}


def _cursor_field(description: str, **kwargs) -> fields.String:
    return String(
        validate=[
            validate.Length(min=1, max=MAX_CURSOR_LENGTH, error=_l("Invalid cursor.")),
            validate.Regexp(CURSOR_PATTERN, error=_l("Invalid cursor.")),
        ],
        metadata={"description": description, "example": encode_cursor([1234])},
        **kwargs,
    )


class LanguageQuerySchema(ma.Schema):
    """`?lang=`, which every operation takes; the lists' schemas add their parameters and
    refuse unknown ones."""

    error_messages = {"unknown": _l("Unknown parameter."), "type": _l("Invalid input type.")}

    lang = String(
        validate=_one_of(API_LANGUAGES),
        metadata={"description": "The language of the messages (errors): French by default, "
                                 "or the best of the request's Accept-Language. The data are "
                                 "as the sellers wrote them."},
    )

    @ma.pre_load
    def drop_empty_values(self, data, **kwargs):
        """`?category=&seller=` (an HTML form's empty fields) means no filter, not an error."""
        return {key: value for key, value in data.items() if value != ""}


# --- query parameters --------------------------------------------------------------------------


class ProductQuerySchema(LanguageQuerySchema):
    q = _text_param("Words to search for (accents, case and plurals are ignored).")
    category = String(
        validate=_one_of([row.slug for row in category_rows()]),
        metadata={"description": "A category slug; its sub-categories are included."},
    )
    place = _text_param("A town (accents and case ignored) or a postcode or its first digits.")
    seller = Integer(
        validate=_range(1, MAX_KEY_INT),
        metadata={"description": "A seller's id. An unknown seller gives an empty list."},
    )
    in_stock = Boolean(
        load_default=False, metadata={"description": "Only products that can be bought now."}
    )
    min_price_cents = Integer(validate=_range(0, MAX_KEY_INT))
    max_price_cents = Integer(validate=_range(0, MAX_KEY_INT))
    sort = String(
        validate=_one_of(SORTS),
        metadata={
            "description": "Defaults to relevance when searching (q), else newest. Relevance "
            "puts a word found in the title above one found in the category, and both above "
            "one found in the description or the seller's name; without q it orders by newest."
        },
    )
    cursor = _cursor_field(CURSOR_DESCRIPTION)
    limit = Integer(load_default=DEFAULT_PAGE_SIZE, validate=_range(1, MAX_PAGE_SIZE))

    @ma.validates_schema
    def prices_in_order(self, data, **kwargs):
        low, high = data.get("min_price_cents"), data.get("max_price_cents")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError(
                _("Must be greater than or equal to min_price_cents."), "max_price_cents"
            )


class SellerQuerySchema(LanguageQuerySchema):
    q = _text_param("Part of a seller's name, town, postcode or description.")
    page = Integer(load_default=1, validate=_range(1, MAX_PAGE))
    per_page = Integer(load_default=SELLERS_PER_PAGE, validate=_range(1, MAX_PAGE_SIZE))


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
        lambda p: external_url("catalog.photo", filename=p.filename),
        metadata=_url("The photo, at most 1600 pixels wide."),
    )
    thumbnail_url = fields.Function(
        lambda p: external_url("catalog.photo", filename=p.thumbnail),
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
        lambda o: external_url("site.seller", slug=o.slug),
        metadata=_url("The seller's shopfront page."),
    )
    api_url = fields.Function(
        lambda o: external_url("api_sellers.seller", seller_id=o.id),
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
    condition = fields.String(
        allow_none=True,
        metadata={"description": "A second-hand item's condition: new, as_new, very_good, good, "
                                 "fair or for_parts; null for new goods.",
                  "enum": ["new", "as_new", "very_good", "good", "fair", "for_parts", None]},
    )
    defects = fields.String(metadata={"description": "A second-hand item's defects, plain text."})
    category = fields.Nested(CategorySchema)
    seller = fields.Nested(SellerSummarySchema, attribute="organization")
    photos = fields.List(fields.Nested(PhotoSchema), metadata={"description": "Main photo first."})
    url = fields.Function(
        lambda p: external_url("catalog.product", product_id=p.id),
        metadata=_url("The product's page on the marketplace."),
    )
    api_url = fields.Function(
        lambda p: external_url("api_products.product", product_id=p.id),
        metadata=_url("This product in the API."),
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ProductPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ProductSchema))
    next_cursor = _cursor_field(
        "Pass it unchanged as `cursor`, with the same filters and sort, for the next page; null "
        "on the last page. Opaque.",
        allow_none=True,
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
        lambda o: external_url("api_products.products", seller=o.id),
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

