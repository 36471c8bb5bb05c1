"""Works-council campaigns: one order of named gift cards for an event, its beneficiaries, the
spreadsheet import waiting for corrections, and where the cards may be spent."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow

# Where a card may be spent is the gift cards' business; a campaign names a profile.
from marketplace.giftcards.models import (  # noqa: F401 (re-exported)
    CampaignEvent,
    RestrictionProfile,
    restriction_category,
    restriction_seller,
)
from marketplace.invoicing.models import Document
from marketplace.orders.models import Order
from marketplace.organizations.models import _enum


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    BENEFICIARIES_IMPORTED = "beneficiaries_imported"
    QUOTED = "quoted"
    PAID = "paid"
    ISSUED = "issued"
    CANCELLED = "cancelled"


class AmountMode(enum.StrEnum):
    SAME = "same"  # one amount for everyone (Campaign.amount_cents)
    PER_BENEFICIARY = "per_beneficiary"  # the spreadsheet's amount column


class UnspentPolicy(enum.StrEnum):
    """What happens to the value left on the cards when they expire (said on every card)."""

    CREDIT = "credit"  # back to the works council, as a credit for its next campaign
    ASSOCIATION = "association"  # given to an association the works council chose
    PLATFORM = "platform"  # kept by the platform


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("validity_months >= 12", name="validity_at_least_12_months"),
        sa.CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("amount_mode <> 'same' OR amount_cents IS NOT NULL",
                           name="same_amount_given"),
        sa.CheckConstraint("unspent_policy <> 'association' OR unspent_association_id IS NOT NULL",
                           name="association_named"),
        sa.Index("ix_campaign_organization_year", "organization_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    event: Mapped[CampaignEvent] = mapped_column(_enum(CampaignEvent, 20))
    year: Mapped[int]  # the calendar year URSSAF counts the vouchers in
    send_on: Mapped[date]  # the cards are sent that day, and their validity starts then
    validity_months: Mapped[int] = mapped_column(default=12)
    amount_mode: Mapped[AmountMode] = mapped_column(_enum(AmountMode, 20))
    amount_cents: Mapped[int | None]  # for AmountMode.SAME
    unspent_policy: Mapped[UnspentPolicy] = mapped_column(_enum(UnspentPolicy, 20))
    unspent_association_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="SET NULL"))
    restriction_profile_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("restriction_profile.id", ondelete="SET NULL"))
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, 30), default=CampaignStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # The manager's statement that they go ahead knowingly with vouchers that the URSSAF
    # exemption may not cover: who, when, and the amount at risk they saw (a later change that
    # puts another amount at risk asks for a new statement).
    risk_acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    risk_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_acknowledged_cents: Mapped[int | None]
    # The order that pays the accepted quote by bank card through the checkout, if so paid.
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("order.id", ondelete="SET NULL"), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every card expired and its unspent value dealt with (campaigns.closing); the report sent.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization = relationship("Organization", foreign_keys=[organization_id])
    unspent_association = relationship("Organization", foreign_keys=[unspent_association_id])
    restriction_profile = relationship("RestrictionProfile")
    created_by = relationship("User", foreign_keys=[created_by_id])
    risk_acknowledged_by = relationship("User", foreign_keys=[risk_acknowledged_by_id])

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r} {self.status}>"


class Beneficiary(db.Model):
    """An employee who receives one named card of the campaign."""

    __tablename__ = "campaign_beneficiary"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("children >= 0", name="children_not_negative"),
        sa.UniqueConstraint("campaign_id", "email"),
        sa.Index("ix_campaign_beneficiary_campaign_line", "campaign_id", "line"),
        sa.Index("ix_campaign_beneficiary_campaign_sent", "campaign_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    line: Mapped[int]  # its line in the imported file
    last_name: Mapped[str] = mapped_column(sa.String(120))
    first_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))  # lower-cased
    employee_number: Mapped[str | None] = mapped_column(sa.String(40))
    children: Mapped[int] = mapped_column(default=0)
    amount_cents: Mapped[int]
    # The card issued to them (campaigns.issuance): set once, so issuing twice issues nothing.
    card_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("gift_card.id", ondelete="RESTRICT"), unique=True)

    # Sending the card by email (campaigns.sending): queued, sent, or failing with the last
    # error (a refused address); the employee's language when known (their account's).
    send_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    send_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    send_error: Mapped[str | None] = mapped_column(sa.String(300))
    # The employee asked for no more reminders (one click in a reminder, no login).
    reminders_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign = relationship("Campaign")
    card = relationship("GiftCard")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PendingImport(db.Model):
    """A spreadsheet read but not yet accepted: its lines wait here, with the corrections made
    in the page, until none has a problem left; then they become the beneficiaries."""

    __tablename__ = "campaign_pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The file's columns in order: [{"header": "Prénom", "field": "first_name" or null}].
    columns: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Headers of unknown columns the manager chose to leave out.
    ignored_columns: Mapped[list] = mapped_column(sa.JSON, default=list)

    campaign = relationship("Campaign")
    uploaded_by = relationship("User")


class PendingLine(db.Model):
    """One line of a pending import, as text (as read, or as corrected in the page)."""

    __tablename__ = "campaign_pending_line"
    __table_args__ = (sa.Index("ix_campaign_pending_line_import_line", "import_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign_pending_import.id", ondelete="CASCADE"))
    line: Mapped[int]  # the line number in the file (the header is line 1)
    last_name: Mapped[str] = mapped_column(sa.String(300), default="")
    first_name: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str] = mapped_column(sa.String(300), default="")
    amount: Mapped[str] = mapped_column(sa.String(100), default="")
    employee_number: Mapped[str] = mapped_column(sa.String(100), default="")
    children: Mapped[str] = mapped_column(sa.String(100), default="")
    # What the line holds in the file's unknown columns, by header (shown with the problem).
    extra: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class CampaignPayment(db.Model):
    """A payment of a campaign's pro-forma started through the payment gateway
    (campaigns.card_payment): by card, or by bank transfer to Stripe's virtual IBAN, each with
    the order it opened. Every attempt is kept, so that a payment still arriving for an older
    one is known to be the campaign's (and refunded when the campaign was settled otherwise)."""

    __tablename__ = "campaign_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), unique=True)
    proforma_id: Mapped[int] = mapped_column(sa.ForeignKey("invoicing_document.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(20))  # "card" or "stripe_transfer"
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign = relationship("Campaign")
    # The classes themselves, not their names: whoever imports the campaigns' models gets a
    # mapper that can be configured, whatever else was imported before.
    order = relationship(Order)
    proforma = relationship(Document)


class Reminder(db.Model):
    """A reminder sent to an employee about their card: each kind once (campaigns.reminders)."""

    __tablename__ = "campaign_reminder"
    __table_args__ = (sa.UniqueConstraint("beneficiary_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign_beneficiary.id", ondelete="CASCADE"), index=True)
    # "unopened-3", "unopened-10", "unopened-month-<n>", "expiry-30", "expiry-7"
    kind: Mapped[str] = mapped_column(sa.String(30))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignCredit(db.Model):
    """Value left on a campaign's cards at expiry that goes back to the works council, as a
    credit for its next campaign (UnspentPolicy.CREDIT): one row per card expired."""

    __tablename__ = "campaign_credit"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
                      sa.UniqueConstraint("card_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("gift_card.id", ondelete="CASCADE"))
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignCreditUse(db.Model):
    """Credit of the works council (CampaignCredit) deducted from one of its campaigns' quotes,
    then from its pro-forma and invoice, which copy the quote's lines (campaigns.credit). The
    credit left is what was credited less the uses not released; a quote withdrawn, or its
    campaign cancelled before payment, releases its use (the credit is free again)."""

    __tablename__ = "campaign_credit_use"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
                      sa.UniqueConstraint("quote_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    quote_id: Mapped[int] = mapped_column(sa.ForeignKey("invoicing_document.id"))
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
