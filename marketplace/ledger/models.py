"""Ledger entries per organization and payouts. An entry's `source` is UNIQUE: the same sale,
redemption or refund can never be counted twice."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow
from marketplace.organizations.models import _enum


class EntryKind(enum.StrEnum):
    SALE = "sale"  # a paid order part, less commission
    CARD = "card"  # a gift card spent at the seller, less commission
    DONATION = "donation"  # a gift card balance given to an association (no commission)
    REFUND = "refund"  # money given back to a shopper: the seller's share comes off
    PAYOUT = "payout"  # sent to the seller's bank through Stripe
    PAYOUT_FAILED = "payout_failed"  # a payout that failed: back on the balance


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, 16))
    # What the platform owes the seller changes by this much (signed).
    amount_cents: Mapped[int]
    gross_cents: Mapped[int] = mapped_column(default=0)  # before commission
    commission_cents: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(sa.String(60), unique=True)
    reference: Mapped[str] = mapped_column(sa.String(60), default="")
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payout.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payout(TimestampMixin, db.Model):
    __tablename__ = "payout"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    status: Mapped[PayoutStatus] = mapped_column(_enum(PayoutStatus, 10), default=PayoutStatus.PENDING)
    destination: Mapped[str] = mapped_column(sa.String(255))
    transfer_id: Mapped[str | None] = mapped_column(sa.String(255))
    failure: Mapped[str | None] = mapped_column(sa.String(300))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization = relationship("Organization")
