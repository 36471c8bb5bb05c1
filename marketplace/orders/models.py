"""Orders: carts, orders with one part per seller, their lines, and the holds on stock and slots."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import Product
from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow
from marketplace.organizations.models import _enum
from marketplace.pickup.models import PickupSlot


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    READY_FOR_PICKUP = "ready_for_pickup"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    NO_SHOW = "no_show"  # a part nobody came for, marked by staff after its slot ended


class Cart(TimestampMixin, db.Model):
    """A visitor's cart (found by the token kept in their session) or a user's (by user_id)."""

    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )

    lines = relationship(
        "CartLine", back_populates="cart", cascade="all, delete-orphan", lazy="selectin",
        order_by="CartLine.id",
    )


class CartLine(db.Model):
    __tablename__ = "cart_line"
    __table_args__ = (
        sa.UniqueConstraint("cart_id", "product_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[int]

    cart = relationship("Cart", back_populates="lines")
    product = relationship("Product", lazy="joined", innerjoin=True)


class Order(TimestampMixin, db.Model):
    __tablename__ = "order"
    __table_args__ = (
        sa.CheckConstraint("total_cents >= 0", name="total_not_negative"),
        sa.CheckConstraint(
            "amount_refunded_cents >= 0 AND amount_refunded_cents <= amount_paid_cents",
            name="refund_within_payment",
        ),
        sa.Index("ix_order_status_expires", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus), default=OrderStatus.PENDING_PAYMENT
    )
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    total_cents: Mapped[int]
    hold_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    payment_gateway: Mapped[str | None] = mapped_column(sa.String(10))
    checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount_paid_cents: Mapped[int] = mapped_column(default=0)
    amount_refunded_cents: Mapped[int] = mapped_column(default=0)
    # What gift cards paid at checkout (giftcards.payment); the gateway charges the rest.
    gift_cards_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # What an order with no goods pays for, said by the domain that opened it
    # (orders.services.open_payment_order, the only one to set it): a works council's campaign
    # of gift cards. Such an order is not a cart's: a checkout never replaces it.
    description: Mapped[str | None] = mapped_column(sa.String(250))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")
    parts = relationship(
        "OrderPart", back_populates="order", cascade="all, delete-orphan", lazy="selectin",
        order_by="OrderPart.id",
    )
    holds = relationship("Hold", back_populates="order", cascade="all, delete-orphan")

    def hold_is_active(self, now: datetime | None = None) -> bool:
        return (
            self.status == OrderStatus.PENDING_PAYMENT
            and self.hold_expires_at > (now or utcnow())
        )


class OrderPart(db.Model):
    """What one seller prepares: its lines, its pickup slot, what it is owed."""

    __tablename__ = "order_part"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "organization_id"),
        sa.CheckConstraint("subtotal_cents >= 0", name="subtotal_not_negative"),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= subtotal_cents", name="refund_within_part"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("pickup_slot.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus), default=OrderStatus.PENDING_PAYMENT
    )
    subtotal_cents: Mapped[int]
    refunded_cents: Mapped[int] = mapped_column(default=0)
    # Fixed when the order is paid, never recomputed (ARCHITECTURE.md, Money).
    commission_rate_bp: Mapped[int | None]
    commission_cents: Mapped[int | None]
    seller_amount_cents: Mapped[int | None]
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a no-show's goods went back on sale (the seller's setting at that time).
    no_show_restocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order = relationship("Order", back_populates="parts")
    organization = relationship("Organization", lazy="joined", innerjoin=True)
    slot = relationship("PickupSlot", lazy="joined", innerjoin=True)
    lines = relationship(
        "OrderLine", back_populates="part", cascade="all, delete-orphan", lazy="selectin",
        order_by="OrderLine.id",
    )


class OrderLine(db.Model):
    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_line"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("order_part.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    # What the shopper saw and paid, kept even if the product changes later.
    title: Mapped[str] = mapped_column(sa.String(120))
    unit_price_cents: Mapped[int]
    vat_rate_bp: Mapped[int]
    is_perishable: Mapped[bool]
    quantity: Mapped[int]
    refunded_quantity: Mapped[int] = mapped_column(default=0)

    part = relationship("OrderPart", back_populates="lines")
    product = relationship("Product")

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


class HoldState(enum.StrEnum):
    HELD = "held"
    CONSUMED = "consumed"  # turned into a sale when the order was paid
    RELEASED = "released"  # given back (expired, cancelled, declined)


class Hold(db.Model):
    """Units of a product, or one place of a slot, kept for an unpaid order until expires_at.

    A hold counts while state is HELD and expires_at is in the future: it stops counting at
    its expiry even if no job has released it yet."""

    __tablename__ = "hold"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (slot_id IS NULL)", name="product_or_slot"
        ),
        sa.Index("ix_hold_product_active", "product_id", "expires_at",
                 sqlite_where=sa.text("state = 'held'"), postgresql_where=sa.text("state = 'held'")),
        sa.Index("ix_hold_slot_active", "slot_id", "expires_at",
                 sqlite_where=sa.text("state = 'held'"), postgresql_where=sa.text("state = 'held'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    slot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pickup_slot.id"))
    quantity: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[HoldState] = mapped_column(_enum(HoldState, 10), default=HoldState.HELD)

    order = relationship("Order", back_populates="holds")


# A running hold's state, written into the SQL rather than sent as a parameter: the partial
# indexes on held holds (WHERE state = 'held') then serve any plan, even a generic one.
HOLD_IS_HELD = Hold.state == sa.literal_column(f"'{HoldState.HELD.value}'")


def expired_units(now):
    """SQL: the units of a product (correlated) that its held_units counter still counts but
    whose holds have expired, not yet released by the sweeper. While the sweeper keeps up they
    are few: a short range of ix_hold_product_active."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Hold.quantity), 0))
        .where(Hold.product_id == Product.id, HOLD_IS_HELD, Hold.expires_at <= now)
        .correlate(Product)
        .scalar_subquery()
    )


def expired_places(now):
    """SQL: the same for the places of a slot (correlated) in its held_places counter."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Hold.quantity), 0))
        .where(Hold.slot_id == PickupSlot.id, HOLD_IS_HELD, Hold.expires_at <= now)
        .correlate(PickupSlot)
        .scalar_subquery()
    )
