"""Catalogue operations: categories, products, photos and stock (every change is a movement)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace import audit, caching
from marketplace.catalog import images, search
from marketplace.catalog.categories import category_rows
from marketplace.catalog.models import (
    VAT_RATES_BP,
    Category,
    Condition,
    ImpactKind,
    Product,
    ProductPhoto,
    ProductStatus,
    StockMovement,
    StockReason,
)
from marketplace.db import db, lock_rows
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.signals import organization_updated

MAX_PHOTOS = 6
MAX_PRICE_CENTS = 100_000_00
MAX_REUSE_WEIGHT_GRAMS = 10_000_000  # 10 tonnes
KEEP = object()  # update_product: leave this field as it is
# Stock changes that a seller makes (the cached pages end at once: marketplace/caching.py);
# sales, cancellations and returns change it too often, and the pages' short life covers them.
SELLER_STOCK_REASONS = frozenset({StockReason.INITIAL, StockReason.MANUAL, StockReason.UNLIMITED})


class CatalogError(DomainError):
    pass


# --- categories ------------------------------------------------------------------------------


def sync_categories() -> None:
    """Make the category table match CATEGORY_TREE (insert missing, update names and parents)."""
    existing = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    for row in category_rows():
        category = existing.get(row.slug)
        if category is None:
            category = Category(slug=row.slug)
            db.session.add(category)
            existing[row.slug] = category
        category.name_fr, category.name_en, category.position = row.name_fr, row.name_en, row.position
        db.session.flush()
        category.parent_id = existing[row.parent_slug].id if row.parent_slug else None
    db.session.flush()


def category_tree() -> list[Category]:
    """Top-level categories with their children loaded, in display order."""
    roots = db.session.scalars(
        sa.select(Category)
        .where(Category.parent_id.is_(None))
        .order_by(Category.position)
        .options(selectinload(Category.children))
    ).all()
    return list(roots)


def get_category(slug: str) -> Category | None:
    return db.session.scalar(sa.select(Category).where(Category.slug == slug))


def get_category_by_id(category_id: int | None) -> Category | None:
    return db.session.get(Category, category_id) if category_id is not None else None


# --- products --------------------------------------------------------------------------------


def products_of(organization, status: ProductStatus | None = None) -> sa.Select:
    """The organization's products (of this status, or all), the newest first."""
    stmt = sa.select(Product).where(Product.organization_id == organization.id)
    if status is not None:
        stmt = stmt.where(Product.status == status)
    return stmt.order_by(Product.id.desc())


def _validate_impact(reuse_weight_grams) -> None:
    if reuse_weight_grams is not None and (
            not isinstance(reuse_weight_grams, int)
            or not 0 < reuse_weight_grams <= MAX_REUSE_WEIGHT_GRAMS):
        raise CatalogError(_l("The weight must be between 1 gram and 10 tonnes."))
def latest_condition(organization) -> Condition | None:
    """The condition of the seller's newest product: a ressourcerie's next item is second-hand too."""
    return db.session.scalar(
        sa.select(Product.condition).where(Product.organization_id == organization.id)
        .order_by(Product.id.desc()).limit(1)
    )


def usual_vat_rate(organization) -> int:
    """The VAT rate of the seller's newest product; none yet: 0 for a seller exempt of VAT
    (art. 293 B), else 20 %."""
    rate = db.session.scalar(
        sa.select(Product.vat_rate_bp).where(Product.organization_id == organization.id)
        .order_by(Product.id.desc()).limit(1)
    )
    if rate is not None:
        return rate
    return 0 if organization.vat_exempt else VAT_RATES_BP[0]


def products_by_ids(organization, ids: list[int]) -> list[Product]:
    """The organization's products among `ids`, in the order of `ids` (one each)."""
    found = {p.id: p for p in db.session.scalars(
        sa.select(Product).where(Product.organization_id == organization.id, Product.id.in_(ids)))}
    seen: set[int] = set()
    ordered = []
    for product_id in ids:
        if product_id in found and product_id not in seen:
            seen.add(product_id)
            ordered.append(found[product_id])
    return ordered


def _validate(*, title: str, price_cents: int, vat_rate_bp: int, stock: int | None) -> None:
    if not title or not title.strip():
        raise CatalogError(_l("Give the product a title."))
    if not isinstance(price_cents, int) or price_cents < 0 or price_cents > MAX_PRICE_CENTS:
        raise CatalogError(_l("The price must be between 0 and 100,000 euros."))
    if vat_rate_bp not in VAT_RATES_BP:
        raise CatalogError(_l("Choose one of the French VAT rates."))
    if stock is not None and stock < 0:
        raise CatalogError(_l("The stock cannot be negative."))


def create_product(
    organization,
    *,
    title: str,
    description: str,
    price_cents: int,
    vat_rate_bp: int,
    category: Category,
    stock: int | None,
    is_perishable: bool,
    by,
    reuse_weight_grams: int | None = None,
    impact_kind: ImpactKind | None = None,
    condition: Condition | None = None,
    defects: str = "",
    low_stock_threshold: int | None = None,
    status: ProductStatus = ProductStatus.ACTIVE,
) -> Product:
    """A new product, on sale (ACTIVE) or a DRAFT that only the back office sees."""
    _validate(title=title, price_cents=price_cents, vat_rate_bp=vat_rate_bp, stock=stock)
    _validate_impact(reuse_weight_grams)
    _validate_alert(low_stock_threshold)
    if not organization.is_seller:
        raise CatalogError(_l("Only sellers can list products."))
    if status not in (ProductStatus.ACTIVE, ProductStatus.DRAFT):
        raise ValueError(f"a new product is active or a draft, not {status}")
    product = Product(
        organization=organization,
        category=category,
        title=title.strip(),
        description=(description or "").strip(),
        price_cents=price_cents,
        vat_rate_bp=vat_rate_bp,
        stock=stock,
        is_perishable=is_perishable,
        reuse_weight_grams=reuse_weight_grams,
        impact_kind=impact_kind,
        condition=condition,
        defects=(defects or "").strip(),
        low_stock_threshold=low_stock_threshold,
        status=status,
    )
    db.session.add(product)
    db.session.flush()
    db.session.add(
        StockMovement(
            product=product,
            delta=stock or 0,
            stock_after=stock,
            reason=StockReason.INITIAL if stock is not None else StockReason.UNLIMITED,
            by_id=getattr(by, "id", None),
        )
    )
    search.reindex(product)
    caching.catalog_changed()
    audit.record("product.created", product, by=by, organization=organization,
                 data={"title": product.title, "price_cents": price_cents, "stock": stock,
                       **({"draft": True} if status == ProductStatus.DRAFT else {})})
    return product


def update_product(
    product: Product,
    *,
    title: str,
    description: str,
    price_cents: int,
    vat_rate_bp: int,
    category: Category,
    is_perishable: bool,
    by,
    reuse_weight_grams: int | None | object = KEEP,
    impact_kind: ImpactKind | None | object = KEEP,
) -> Product:
    _validate(title=title, price_cents=price_cents, vat_rate_bp=vat_rate_bp, stock=None)
    impact = {name: value for name, value in (("reuse_weight_grams", reuse_weight_grams),
                                              ("impact_kind", impact_kind)) if value is not KEEP}
    _validate_impact(impact.get("reuse_weight_grams"))
    changes = {}
    for field, value in {
        "title": title.strip(),
        "description": (description or "").strip(),
        "price_cents": price_cents,
        "vat_rate_bp": vat_rate_bp,
        "category_id": category.id,
        "is_perishable": is_perishable,
        **impact,
    }.items():
        if getattr(product, field) != value:
            changes[field] = [getattr(product, field), value]
            setattr(product, field, value)
    product.category = category
    db.session.flush()
    if changes:
        search.reindex(product)
        caching.catalog_changed()
        audit.record("product.updated", product, by=by, organization=product.organization,
                     data={k: v for k, v in changes.items() if k != "description"})
    return product


def update_condition_and_alert(product: Product, *, condition: Condition | None, defects: str,
                               low_stock_threshold: int | None, by) -> None:
    """A second-hand item's condition and defects (shown on its page), and the stock under
    which the managers' daily alert names it."""
    _validate_alert(low_stock_threshold)
    changes = {}
    for field, value in {"condition": condition, "defects": (defects or "").strip(),
                         "low_stock_threshold": low_stock_threshold}.items():
        if getattr(product, field) != value:
            changes[field] = [getattr(product, field), value]
            setattr(product, field, value)
    if not changes:
        return
    db.session.flush()
    caching.catalog_changed()
    audit.record("product.updated", product, by=by, organization=product.organization,
                 data={k: v for k, v in changes.items() if k != "defects"})


def _validate_alert(low_stock_threshold: int | None) -> None:
    if low_stock_threshold is not None and not 0 <= low_stock_threshold <= 1_000_000:
        raise CatalogError(_l("The alert threshold is a number of items, 0 or more."))


def set_status(product: Product, status: ProductStatus, *, by) -> None:
    """Archive, restore or publish (a draft put on sale); a product never becomes a draft again."""
    if product.status == status:
        return
    if status == ProductStatus.DRAFT:
        raise ValueError("a product on sale or archived does not become a draft")
    previous, product.status = product.status, status
    db.session.flush()
    caching.catalog_changed()
    if status == ProductStatus.ARCHIVED:
        action = "product.archived"
    elif previous == ProductStatus.DRAFT:
        action = "product.published"
    else:
        action = "product.restored"
    audit.record(action, product, by=by, organization=product.organization)


# --- availability ----------------------------------------------------------------------------


def hides_when_unavailable(product: Product) -> bool:
    """A second-hand item (it has a condition) is a one-off piece: the catalogue lists it only
    while a unit is available (listing.list_products). New goods stay listed, "sold out"."""
    return product.condition is not None


def availability_changed(product: Product, *, before: int | None) -> None:
    """Call after the stock or the holds of `product` changed (in the unit of work), with the
    units that were available before (stock - held_units; None: unlimited). A one-off item
    that ran out, or came back (an order cancelled, a hold released), changes the catalogue's
    listing: the cached pages end once the unit commits. Other changes of the stock do not
    (the pages' short life covers them: marketplace/caching.py)."""
    if not hides_when_unavailable(product):
        return
    after = None if product.stock is None else product.stock - product.held_units
    if (before is None or before > 0) != (after is None or after > 0):
        caching.catalog_changed()


def adjust_stock(
    product: Product,
    *,
    reason: StockReason,
    by=None,
    delta: int | None = None,
    new_stock: int | None = None,
    note: str = "",
    reference: str | None = None,
) -> StockMovement:
    """Change the stock by `delta`, or set it to `new_stock`, under a row lock; never below zero."""
    if (delta is None) == (new_stock is None):
        raise ValueError("give exactly one of delta or new_stock")
    (locked,) = lock_rows(Product, [product.id])
    if locked.stock is None:
        raise CatalogError(_l("This product has unlimited stock: set a quantity first."))
    available_before = locked.stock - locked.held_units
    if new_stock is not None:
        if new_stock < 0:
            raise CatalogError(_l("The stock cannot be negative."))
        delta = new_stock - locked.stock
    after = locked.stock + delta
    if after < 0:
        raise CatalogError(
            _l("Only %(stock)d left: the stock cannot go below zero.", stock=locked.stock)
        )
    locked.stock = after
    movement = StockMovement(
        product=locked, delta=delta, stock_after=after, reason=reason, note=(note or "")[:200],
        by_id=getattr(by, "id", None), reference=reference,
    )
    db.session.add(movement)
    db.session.flush()
    if reason in SELLER_STOCK_REASONS:
        caching.catalog_changed()
    else:
        availability_changed(locked, before=available_before)
    if reason == StockReason.MANUAL:
        audit.record("stock.adjusted", locked, by=by, organization=locked.organization,
                     data={"delta": delta, "stock_after": after, "note": note})
    return movement


def set_unlimited(product: Product, unlimited: bool, *, by, stock: int = 0) -> None:
    """Switch between unlimited stock (services) and counted stock starting at `stock`."""
    (locked,) = lock_rows(Product, [product.id])
    if unlimited == (locked.stock is None):
        return
    if not unlimited and stock < 0:
        raise CatalogError(_l("The stock cannot be negative."))
    locked.stock = None if unlimited else stock
    db.session.add(
        StockMovement(product=locked, delta=0 if unlimited else stock, stock_after=locked.stock,
                      reason=StockReason.UNLIMITED, by_id=getattr(by, "id", None))
    )
    db.session.flush()
    caching.catalog_changed()
    audit.record("stock.unlimited" if unlimited else "stock.counted", locked, by=by,
                 organization=locked.organization, data={"stock": locked.stock})


def stock_movements(product: Product, limit: int = 100) -> list[StockMovement]:
    return db.session.scalars(
        sa.select(StockMovement)
        .where(StockMovement.product_id == product.id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    ).all()


# --- photos ----------------------------------------------------------------------------------


def add_photo(product: Product, data: bytes, *, alt_text: str = "", by) -> ProductPhoto:
    if len(product.photos) >= MAX_PHOTOS:
        raise CatalogError(_l("A product can have %(max)d photos at most.", max=MAX_PHOTOS))
    stored = images.store_product_photo(data)
    photo = ProductPhoto(
        product=product,
        position=max((p.position for p in product.photos), default=-1) + 1,
        filename=stored.filename,
        thumbnail=stored.thumbnail,
        width=stored.width,
        height=stored.height,
        alt_text=(alt_text or product.title)[:200],
    )
    db.session.add(photo)
    db.session.flush()
    caching.catalog_changed()
    audit.record("product.photo_added", product, by=by, organization=product.organization)
    return photo


def remove_photo(photo: ProductPhoto, *, by) -> list[str]:
    """Remove the record; returns the file names to delete once the unit of work committed."""
    product = photo.product
    names = [photo.filename, photo.thumbnail]
    product.photos.remove(photo)
    db.session.flush()
    caching.catalog_changed()
    audit.record("product.photo_removed", product, by=by, organization=product.organization)
    return names


def make_main_photo(photo: ProductPhoto) -> None:
    product = photo.product
    ordered = [photo, *(p for p in product.photos if p.id != photo.id)]
    for position, item in enumerate(ordered):
        item.position = position
    db.session.flush()
    caching.catalog_changed()


# The seller's name and town are part of each of its products' search text.
SELLER_SEARCH_FIELDS = frozenset({"name", "town"})


@organization_updated.connect
def reindex_seller_products(organization, *, changed, **_) -> None:
    """After a seller's name or town changed (in the same unit of work): its products are found
    by the new words, no longer by the old ones. Any change of its details is on its
    shopfront and product pages: the cached ones end."""
    caching.catalog_changed()
    if not SELLER_SEARCH_FIELDS & set(changed):
        return
    products = db.session.scalars(
        sa.select(Product).where(Product.organization_id == organization.id).order_by(Product.id)
    ).all()
    search.reindex_all(products)
