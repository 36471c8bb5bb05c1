"""Catalogue: categories, products, their photos and the stock movements that explain the stock."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow
from marketplace.organizations.models import _enum

# French VAT rates, in basis points of a percent (2000 = 20 %).
VAT_RATES_BP = (2000, 1000, 550, 210, 0)
REFERENCE_MAX = 40
TITLE_MAX = 120


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name_fr: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))

    parent = relationship("Category", remote_side=[id], back_populates="children")
    children = relationship("Category", back_populates="parent", order_by="Category.position")

    def name(self, locale: str = "fr") -> str:
        return self.name_en if locale == "en" else self.name_fr


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    # Listed in the back office, not yet for sale: never in the catalogue, the API or search.
    DRAFT = "draft"


class Condition(enum.StrEnum):
    """The state of a second-hand item (None: new goods from a producer)."""

    NEW = "new"  # never used, maybe without its box
    AS_NEW = "as_new"
    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    FOR_PARTS = "for_parts"


class ImpactKind(enum.StrEnum):
    """The good a product does (issue 17, the sellers' impact line and report)."""

    REUSE = "reuse"  # a second-hand object given a new life
    REPAIR = "repair"  # a repair, a refurbished object
    FAIR_TRADE = "fair_trade"
    LOCAL_FOOD = "local_food"
    INTEGRATION = "integration"  # made or served by people in integration work


class Product(TimestampMixin, db.Model):
    __tablename__ = "product"
    __table_args__ = (
        sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("held_units >= 0", name="held_units_not_negative"),
        sa.CheckConstraint("vat_rate_bp IN (2000, 1000, 550, 210, 0)", name="vat_rate_known"),
        # Listing pages: newest first and by price, for active products.
        sa.Index("ix_product_listing_newest", "status", "id"),
        sa.Index("ix_product_listing_price", "status", "price_cents", "id"),
        sa.Index("ix_product_category_listing", "category_id", "status", "id"),
        sa.Index("ix_product_seller_listing", "organization_id", "status", "id"),
        # The seller's own reference (spreadsheet import and export): one product per reference.
        sa.Index("ux_product_seller_reference", "organization_id", "reference", unique=True),
        sa.Index("ix_product_seller_ean", "organization_id", "ean"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE")
    )
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    price_cents: Mapped[int]
    vat_rate_bp: Mapped[int] = mapped_column(default=2000)
    # None means unlimited (services, workshops); otherwise units on the shelf.
    stock: Mapped[int | None]
    # Units kept by holds in state "held", expired or not (orders.services keeps it, under the
    # row's lock). Availability is stock - held_units + the units of holds already expired but
    # not yet released: one row read, and a short index range while the sweeper keeps up.
    held_units: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    is_perishable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ProductStatus] = mapped_column(
        _enum(ProductStatus, 10), default=ProductStatus.ACTIVE
    )
    # The seller's own reference (optional; unique per seller) and the barcode (EAN-8/13).
    reference: Mapped[str | None] = mapped_column(sa.String(REFERENCE_MAX))
    ean: Mapped[str | None] = mapped_column(sa.String(13))
    # Lower-cased, accent-free, singular words of title, description, seller and category:
    # what search matches (FTS5 on SQLite, a French tsvector index on PostgreSQL).
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    # Impact (optional): the weight a sale keeps out of landfill, in grams, and the good it does.
    reuse_weight_grams: Mapped[int | None] = mapped_column(
        sa.CheckConstraint("reuse_weight_grams IS NULL OR reuse_weight_grams > 0",
                           name="reuse_weight_positive"))
    impact_kind: Mapped[ImpactKind | None] = mapped_column(_enum(ImpactKind, 12))
    # --- Quick listing and alerts (issue 18; migration 0018) ---
    # A second-hand item's condition (None for new goods); one with a condition is a one-off
    # piece: it leaves the catalogue while no unit is available (listing.list_products).
    condition: Mapped[Condition | None] = mapped_column(_enum(Condition, 12))
    defects: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Below this many units, the managers' daily alert names the product (None: no alert).
    low_stock_threshold: Mapped[int | None]

    organization = relationship("Organization", lazy="joined", innerjoin=True)
    category = relationship("Category", lazy="joined", innerjoin=True)
    photos = relationship(
        "ProductPhoto",
        back_populates="product",
        order_by="ProductPhoto.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def is_draft(self) -> bool:
        return self.status == ProductStatus.DRAFT

    @property
    def unlimited(self) -> bool:
        return self.stock is None

    @property
    def main_photo(self):
        return self.photos[0] if self.photos else None

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.title!r}>"


class ProductPhoto(db.Model):
    """A re-encoded JPEG and its thumbnail, stored under UPLOAD_DIR/products/."""

    __tablename__ = "product_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(sa.String(80), unique=True)
    thumbnail: Mapped[str] = mapped_column(sa.String(80), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    alt_text: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product = relationship("Product", back_populates="photos")


class StockReason(enum.StrEnum):
    INITIAL = "initial"
    MANUAL = "manual"
    SALE = "sale"
    CANCELLATION = "cancellation"
    RETURN = "return"
    NO_SHOW = "no_show"
    UNLIMITED = "unlimited"  # switched to or from unlimited stock
    IMPORT = "import"  # a spreadsheet import (catalog/product_import.py)
    STOCK_TAKE = "stock-take"  # a confirmed stock-take (catalog/stocktake.py)


class StockMovement(db.Model):
    """Every change of a product's stock, so the seller sees why it changed."""

    __tablename__ = "stock_movement"
    __table_args__ = (sa.Index("ix_stock_movement_product_created", "product_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    delta: Mapped[int]
    stock_after: Mapped[int | None]
    reason: Mapped[StockReason] = mapped_column(_enum(StockReason, 16))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(sa.String(40))  # e.g. an order reference
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product = relationship("Product")
    by = relationship("User")


class StockTakeStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class StockTake(db.Model):
    """A seller's count of its shelves: lines are saved as they are counted, the differences
    become movements when it is confirmed (catalog/stocktake.py)."""

    __tablename__ = "stock_take"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[StockTakeStatus] = mapped_column(
        _enum(StockTakeStatus, 10), default=StockTakeStatus.OPEN
    )
    started_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines = relationship("StockTakeLine", back_populates="stock_take",
                         cascade="all, delete-orphan", order_by="StockTakeLine.id")


class StockTakeLine(db.Model):
    """One product counted: the count, and the stock the product had when it was counted (the
    difference written at confirmation is counted - stock_when_counted; what moved after the
    count stays on top of it)."""

    __tablename__ = "stock_take_line"
    __table_args__ = (
        sa.UniqueConstraint("stock_take_id", "product_id", name="one_line_per_product"),
        sa.CheckConstraint("counted >= 0", name="counted_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_take_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stock_take.id", ondelete="CASCADE")
    )
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    counted: Mapped[int]
    stock_when_counted: Mapped[int]
    counted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    movement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stock_movement.id", ondelete="SET NULL")
    )

    stock_take = relationship("StockTake", back_populates="lines")
    product = relationship("Product")


def _install_search_ddl() -> None:
    from marketplace.catalog.search import install_ddl_events

    install_ddl_events(Product.__table__)


_install_search_ddl()
