"""Where a card can be spent, for its holder ("where to spend" on the card's page): the sellers
its restriction allows (giftcards.restrictions), each with a few of the products it may pay
for, nearest first.

- Allowed: an approved seller, named by the profile when it names sellers, with at least one
  product on sale in the profile's categories (a main category covers its subcategories) when
  it limits categories; without a profile, any approved seller with a product on sale.
- Near a postcode or a town typed by the holder: the sellers of the same postcode first, then
  those of the same department, then the rest; within each, those that offer click-and-collect
  (an active pickup place: order online, pay with the card at checkout, collect at the shop)
  before those where the card is shown at the counter, then by name. A town is read as the
  postcode the sellers and pickup places of that town have (accents and case ignored).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.db import db
from marketplace.giftcards.restrictions import Restriction
from marketplace.organizations.models import SELLER_KINDS, Organization, OrganizationStatus
from marketplace.pickup.models import PickupLocation
from marketplace.text import fold

SELLERS_SHOWN = 12
PRODUCTS_PER_SELLER = 3
NEAR_MAX = 100  # what the holder types: longer is cut
_POSTCODE = re.compile(r"^\d{2,5}$")


@dataclass(frozen=True)
class Near:
    """Where the holder looks: a postcode (5 digits), or a department (its first digits); both
    empty when nothing was typed or the town is unknown (`unknown` then says so)."""

    typed: str = ""
    postcode: str = ""
    department: str = ""
    unknown: bool = False


@dataclass
class Place:
    seller_id: int
    name: str
    slug: str
    postcode: str
    town: str
    click_and_collect: bool
    rank: int  # 0 same postcode, 1 same department, 2 elsewhere (or nothing typed)
    products: list = field(default_factory=list)  # [(id, title, price_cents)]


def department_of(postcode: str) -> str:
    """The department a postcode is in, as its first digits (3 overseas: 971..988)."""
    return postcode[:3] if postcode[:2] in ("97", "98") else postcode[:2]


def read_near(text: str | None) -> Near:
    """What the holder typed: a postcode, a department's digits, or a town."""
    typed = " ".join((text or "").split())[:NEAR_MAX]
    if not typed:
        return Near()
    compact = typed.replace(" ", "")
    if _POSTCODE.match(compact):
        if len(compact) == 5:
            return Near(typed, compact, department_of(compact))
        return Near(typed, "", compact if len(compact) <= 3 else department_of(compact))
    wanted = _town_key(typed)
    if wanted.startswith("st "):
        wanted = "saint " + wanted[3:]
    codes: Counter = Counter()
    for model in (Organization, PickupLocation):
        for town, postcode in db.session.execute(
                sa.select(model.town, model.postcode).distinct()):
            if postcode and _town_key(town) == wanted:
                codes[postcode] += 1
    if not codes:
        return Near(typed, unknown=True)
    postcode = codes.most_common(1)[0][0]
    return Near(typed, postcode, department_of(postcode))


def _town_key(town: str) -> str:
    """A town's name as compared: folded, hyphens and apostrophes as spaces."""
    return " ".join(fold(town).replace("-", " ").replace("'", " ").split())


def _allowed_products(restriction: Restriction | None) -> sa.Select:
    """The products on sale the card may pay for (ids and sellers)."""
    stmt = (sa.select(Product.id).join(Organization, Organization.id == Product.organization_id)
            .where(Product.status == ProductStatus.ACTIVE,
                   sa.or_(Product.stock.is_(None), Product.stock > 0),
                   Organization.status == OrganizationStatus.APPROVED,
                   Organization.kind.in_(SELLER_KINDS)))
    if restriction is not None and restriction.categories:
        ids = sorted(restriction.category_ids)
        children = sa.select(Category.id).where(Category.parent_id.in_(ids))
        stmt = stmt.where(sa.or_(Product.category_id.in_(ids), Product.category_id.in_(children)))
    if restriction is not None and restriction.sellers:
        stmt = stmt.where(Product.organization_id.in_(sorted(restriction.seller_ids)))
    return stmt


def places(restriction: Restriction | None, near: Near, *,
           limit: int = SELLERS_SHOWN) -> list[Place]:
    """The sellers where the card may be spent, nearest first (see the module), each with up
    to PRODUCTS_PER_SELLER products it may pay for. Three queries."""
    products = _allowed_products(restriction).subquery()
    has_product = sa.exists().where(Product.id.in_(sa.select(products.c.id)),
                                    Product.organization_id == Organization.id)
    if restriction is not None and restriction.sellers and not restriction.categories:
        # The profile names the sellers and no categories: each of them, products or not
        # (the counter takes the card for anything they sell).
        has_product = Organization.id.in_(sorted(restriction.seller_ids))
    click = sa.exists().where(PickupLocation.organization_id == Organization.id,
                              PickupLocation.is_active.is_(True))
    if near.postcode:
        rank = sa.case((Organization.postcode == near.postcode, 0),
                       (Organization.postcode.startswith(near.department), 1), else_=2)
    elif near.department:
        rank = sa.case((Organization.postcode.startswith(near.department), 1), else_=2)
    else:
        rank = sa.literal(2)
    rows = db.session.execute(
        sa.select(Organization.id, Organization.name, Organization.slug, Organization.postcode,
                  Organization.town, click.label("click"), rank.label("rank"))
        .where(Organization.status == OrganizationStatus.APPROVED,
               Organization.kind.in_(SELLER_KINDS), has_product)
        .order_by(rank, click.desc(), Organization.name, Organization.id)
        .limit(limit)).all()
    found = [Place(row.id, row.name, row.slug, row.postcode, row.town, bool(row.click),
                   int(row.rank)) for row in rows]
    if not found:
        return found
    numbered = (sa.select(Product.id, Product.organization_id, Product.title, Product.price_cents,
                          sa.func.row_number().over(partition_by=Product.organization_id,
                                                    order_by=(Product.id.desc(),)).label("n"))
                .where(Product.id.in_(sa.select(products.c.id)),
                       Product.organization_id.in_([place.seller_id for place in found]))
                .subquery())
    by_seller: dict[int, list] = {}
    for product_id, seller_id, title, price in db.session.execute(
            sa.select(numbered.c.id, numbered.c.organization_id, numbered.c.title,
                      numbered.c.price_cents)
            .where(numbered.c.n <= PRODUCTS_PER_SELLER).order_by(numbered.c.id.desc())):
        by_seller.setdefault(seller_id, []).append((product_id, title, price))
    for place in found:
        place.products = by_seller.get(place.seller_id, [])
    return found
