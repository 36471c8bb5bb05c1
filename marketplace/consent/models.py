"""A shopper's consent to hear from a seller, and the messages a seller sends to those who gave it.

A consent is kept as given: the date, the exact sentence the shopper ticked, in their language,
and how (at checkout). Withdrawn, it stays (with the date and how) as the proof of what was
asked and when it stopped; a later checkout may give a new one.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow

# How a consent was given, and how it was withdrawn (stored as text, shown translated).
GIVEN_AT_CHECKOUT = "checkout"
WITHDRAWN_FROM_ACCOUNT = "account"
WITHDRAWN_BY_LINK = "link"  # the unsubscribe page's button
WITHDRAWN_ONE_CLICK = "one-click"  # the mail client's List-Unsubscribe-Post (RFC 8058)
WITHDRAWN_BY_ERASURE = "erasure"  # the shopper erased their account


class MarketingConsent(db.Model):
    __tablename__ = "marketing_consent"
    __table_args__ = (
        # One consent in force per address and seller.
        sa.Index("uq_marketing_consent_active", "organization_id", "email", unique=True,
                 sqlite_where=sa.text("withdrawn_at IS NULL"),
                 postgresql_where=sa.text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    wording: Mapped[str] = mapped_column(sa.Text)  # the exact sentence shown and ticked
    locale: Mapped[str] = mapped_column(sa.String(5))
    method: Mapped[str] = mapped_column(sa.String(20), default=GIVEN_AT_CHECKOUT)
    order_reference: Mapped[str | None] = mapped_column(sa.String(20))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_how: Mapped[str | None] = mapped_column(sa.String(20))

    organization = relationship("Organization", lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class SellerMessage(db.Model):
    """A message a seller wrote to its opted-in customers, sent in batches by the job queue."""

    __tablename__ = "seller_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(150))
    body: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipients_count: Mapped[int] = mapped_column(default=0)

    organization = relationship("Organization")
    recipients = relationship("SellerMessageRecipient", back_populates="message",
                              cascade="all, delete-orphan", order_by="SellerMessageRecipient.id")


class SellerMessageRecipient(db.Model):
    """One address a message goes to: sent, skipped (consent withdrawn meanwhile) or failed."""

    __tablename__ = "seller_message_recipient"
    __table_args__ = (sa.UniqueConstraint("message_id", "consent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller_message.id", ondelete="CASCADE"), index=True)
    consent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("marketing_consent.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(300))

    message = relationship("SellerMessage", back_populates="recipients")
    consent = relationship("MarketingConsent")
