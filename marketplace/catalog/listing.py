"""The public catalogue query: filters, sorting and keyset pagination that stays fast at 100k.

Pages are addressed by an opaque cursor (the sort key and id of the last product shown), so the
database never counts or skips rows; only relevance order (a search) uses an offset, within the
RELEVANCE_CANDIDATES newest matches that it ranks.
"""
from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from marketplace.catalog import search
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.db import db
from marketplace.organizations.models import SELLER_KINDS, Organization, OrganizationStatus

SORTS = ("relevance", "newest", "price_asc", "price_desc", "title")
DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 100
RELEVANCE_CANDIDATES = 1000
MAX_RELEVANCE_OFFSET = RELEVANCE_CANDIDATES - MAX_PAGE_SIZE
# Ids and prices are 32-bit integers on PostgreSQL; a cursor value outside is tampered with.
MAX_KEY_INT = 2**31 - 1
MAX_KEY_TEXT = 200
MAX_CURSOR_LENGTH = 1500  # a 120-character title of escaped accents fits


class InvalidCursor(ValueError):
    pass


@dataclass
class ProductFilters:
    q: str = ""
    category: str | None = None  # slug; includes its sub-categories
    place: str | None = None  # a town, or a postcode or its first digits
    seller_id: int | None = None
    in_stock: bool = False
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = DEFAULT_PAGE_SIZE


@dataclass
class ProductPage:
    items: list[Product]
    next_cursor: str | None
    filters: ProductFilters
    category: Category | None = None
    unknown: list[str] = field(default_factory=list)  # filters that matched nothing (e.g. category)


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    if len(cursor) > MAX_CURSOR_LENGTH:  # also keeps json from recursing into "[[[[..."
        raise InvalidCursor(cursor[:20])
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(values, list) or not values:
        raise InvalidCursor(cursor)
    return values


def _seller_ids_in_place(place: str) -> list[int]:
    """Approved sellers whose town (accents and case ignored) or postcode prefix matches."""
    place = place.strip()
    stmt = sa.select(Organization.id, Organization.town, Organization.postcode).where(
        Organization.status == OrganizationStatus.APPROVED, Organization.kind.in_(SELLER_KINDS)
    )
    if place.isdigit():
        return [row.id for row in db.session.execute(stmt) if row.postcode.startswith(place)]
    wanted = " ".join(search.words(place))
    return [row.id for row in db.session.execute(stmt) if " ".join(search.words(row.town)) == wanted]


def get_public_product(product_id: int, *, photos: bool = True) -> Product | None:
    """The product as the public sees it: active, from an approved seller; else None.
    `photos=False` leaves the photos unread until something asks for them."""
    if not 1 <= product_id <= MAX_KEY_INT:
        return None
    return db.session.scalar(_public_product_statement(photos), {"public_product_id": product_id})


@functools.cache
def _public_product_statement(photos: bool) -> sa.Select:
    """get_public_product's query, built once per variant (every add to cart and product page
    runs it)."""
    return (
        sa.select(Product)
        .options(*([] if photos else [lazyload(Product.photos)]))
        .join(Organization, Organization.id == Product.organization_id)
        .where(
            Product.id == sa.bindparam("public_product_id", type_=Product.id.type),
            Product.status == ProductStatus.ACTIVE,
            Organization.status == OrganizationStatus.APPROVED,
            Organization.kind.in_(SELLER_KINDS),
        )
    )


def listed_while_available():
    """SQL: a one-off (second-hand) item is listed only while a unit is not sold nor held
    (catalog.services.hides_when_unavailable; its cache invalidation: availability_changed).
    Holds expired but not yet released still count, for the minute the sweeper takes."""
    return sa.or_(
        Product.condition.is_(None),
        Product.stock.is_(None),
        Product.stock - Product.held_units > 0,
    )


def list_products(filters: ProductFilters) -> ProductPage:
    limit = max(1, min(filters.limit, MAX_PAGE_SIZE))
    table = Product.__table__
    stmt = (
        sa.select(Product)
        # The parent category with each product's category: the API names it for every item
        # (one query per parent otherwise: bench/RESULTS.md, "make bench").
        .options(joinedload(Product.category).joinedload(Category.parent))
        .join(Organization, Organization.id == Product.organization_id)
        .where(
            Product.status == ProductStatus.ACTIVE,
            Organization.status == OrganizationStatus.APPROVED,
            listed_while_available(),
        )
    )
    page = ProductPage(items=[], next_cursor=None, filters=filters)

    if filters.category:
        category = db.session.scalar(sa.select(Category).where(Category.slug == filters.category))
        if category is None:
            page.unknown.append("category")
            return page
        page.category = category
        ids = [category.id, *(c.id for c in category.children)]
        stmt = stmt.where(Product.category_id.in_(ids))
    if filters.place:
        seller_ids = _seller_ids_in_place(filters.place)
        if not seller_ids:
            return page
        stmt = stmt.where(Product.organization_id.in_(seller_ids))
    if filters.seller_id:
        stmt = stmt.where(Product.organization_id == filters.seller_id)
    if filters.in_stock:
        stmt = stmt.where(sa.or_(Product.stock.is_(None), Product.stock > 0))
    if filters.min_price_cents is not None:
        stmt = stmt.where(Product.price_cents >= filters.min_price_cents)
    if filters.max_price_cents is not None:
        stmt = stmt.where(Product.price_cents <= filters.max_price_cents)

    match = None
    if filters.q:
        match = search.match_clause(table, filters.q)
        if match is None:
            return page

    if db.session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement after 5 runs and PostgreSQL may then switch to a
        # generic plan that ignores the values: a search for a common word got a plan made for
        # a rare one (5x slower). For the listing query below, plans are made for the actual
        # values (planning costs well under 1 ms), until the end of this transaction.
        db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))

    sort = filters.sort if filters.sort in SORTS else "newest"
    if sort == "relevance" and match is None:
        sort = "newest"  # without words to rank by, the newest come first

    if sort == "relevance":
        offset = 0
        if filters.cursor:
            (offset,) = _cursor_values(filters.cursor, (int,))
            if not 0 <= offset <= MAX_RELEVANCE_OFFSET:
                raise InvalidCursor(filters.cursor)
        # Rank only the newest RELEVANCE_CANDIDATES matches: a common word can match a quarter
        # of 100,000 products, and ranking them all costs tens of milliseconds, while the
        # newest matches are found in a few.
        scores = search.relevance(table, filters.q, stmt, candidates=RELEVANCE_CANDIDATES)
        score, product_id = scores.selected_columns.score, scores.selected_columns.id
        best = scores.order_by(score.desc(), product_id.desc()).offset(offset).limit(limit + 1).subquery()
        ranked = (
            sa.select(Product)
            .join(best, best.c.id == Product.id)
            .order_by(best.c.score.desc(), Product.id.desc())
        )
        rows = db.session.scalars(ranked).all()
        page.items = list(rows[:limit])
        if len(rows) > limit and offset + limit <= MAX_RELEVANCE_OFFSET:
            page.next_cursor = encode_cursor([offset + limit])
        return page

    if match is not None:
        stmt = stmt.where(match)
    key, descending = {
        "newest": (None, True),
        "price_asc": (Product.price_cents, False),
        "price_desc": (Product.price_cents, True),
        "title": (Product.title, False),
    }[sort]
    if filters.cursor:
        if key is None:
            (last_id,) = _cursor_values(filters.cursor, (int,))
            stmt = stmt.where(Product.id < last_id)
        else:
            key_type = str if sort == "title" else int
            last_key, last_id = _cursor_values(filters.cursor, (key_type, int))
            row, bound = sa.tuple_(key, Product.id), sa.tuple_(sa.literal(last_key), sa.literal(last_id))
            stmt = stmt.where(row < bound if descending else row > bound)
    if key is None:
        order = [Product.id.desc()]
    else:
        order = [key.desc(), Product.id.desc()] if descending else [key.asc(), Product.id.asc()]
    rows = db.session.scalars(stmt.order_by(*order).limit(limit + 1)).all()
    page.items = list(rows[:limit])
    if len(rows) > limit:
        last = page.items[-1]
        page.next_cursor = encode_cursor(
            [last.id] if key is None else [getattr(last, key.key), last.id]
        )
    return page


def _cursor_values(cursor: str, types: tuple[type, ...]) -> list:
    """The cursor's values, each of the type its sort key needs.

    A tampered cursor must give InvalidCursor, never a database error: PostgreSQL refuses to
    compare an integer column with text (or text holding NUL), SQLite overflows on huge ints.
    """
    values = decode_cursor(cursor)
    if len(values) != len(types):
        raise InvalidCursor(cursor)
    for value, expected in zip(values, types, strict=True):
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidCursor(cursor)
        if expected is int and not -MAX_KEY_INT <= value <= MAX_KEY_INT:
            raise InvalidCursor(cursor)
        if expected is str and (len(value) > MAX_KEY_TEXT or "\x00" in value or not _is_utf8(value)):
            raise InvalidCursor(cursor)
    return values


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")  # JSON can carry lone surrogates, which no driver can send
    except UnicodeEncodeError:
        return False
    return True
