"""Payments: webhook events seen once, refunds made, and the demo gateway's checkout sessions."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow
from marketplace.organizations.models import _enum


class PaymentEvent(db.Model):
    """Every gateway event id is stored once: a replayed webhook finds its row and stops."""

    __tablename__ = "payment_event"
    __table_args__ = (sa.UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(10))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100))
    object_id: Mapped[str | None] = mapped_column(sa.String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, the gateway has not (yet) confirmed it
    SUCCEEDED = "succeeded"  # money sent back and applied to the order
    FAILED = "failed"  # the gateway refused it: nothing was refunded


class Refund(db.Model):
    """Money sent back for an order, or one part of it.

    The row is written (pending) before the gateway is called, so its id gives the idempotency
    key and a crash between the call and its recording can be finished later (reconcile)."""

    __tablename__ = "refund"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    part_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_part.id"))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(40))
    gateway_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[RefundStatus] = mapped_column(
        _enum(RefundStatus, 10), default=RefundStatus.PENDING
    )
    # What the refund covers, so it can be applied after the gateway answers (or after a crash):
    # {"lines": {"<order_line_id>": quantity}, "restock": "cancellation"|"return"|null,
    #  "error": "<why the gateway refused>"}
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    order = relationship("Order")
    part = relationship("OrderPart")


class DemoSessionStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    DECLINED = "declined"
    EXPIRED = "expired"


class DemoCheckoutSession(db.Model):
    """The demo gateway's stand-in for a Stripe Checkout Session (no money moves)."""

    __tablename__ = "demo_checkout_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    status: Mapped[DemoSessionStatus] = mapped_column(
        _enum(DemoSessionStatus, 10), default=DemoSessionStatus.OPEN
    )
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(64))
    amount_refunded_cents: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
