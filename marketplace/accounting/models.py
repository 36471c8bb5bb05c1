"""The accounts a seller's FEC uses (one row per seller, defaults until it changes them) and
the platform's monthly commission invoices, one per seller and month."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow

# The associations' chart of accounts (règlement ANC 2018-06, on the PCG): defaults a seller
# may change on its settings page. docs/accounting.md says what each one is for.
DEFAULT_ACCOUNTS = {
    "sales_account": "707",  # ventes de marchandises
    "vat_collected_account": "44571",  # TVA collectée
    "commission_account": "6222",  # commissions et courtages sur ventes
    "vat_deductible_account": "44566",  # TVA déductible sur autres biens et services
    "platform_account": "467",  # autres comptes débiteurs ou créditeurs: the platform
    "gift_card_account": "467",  # cards spent at the counter: the platform pays them too
    "donation_account": "7541",  # dons manuels
    "bank_account": "512",  # banque
}
ACCOUNT_FIELDS = tuple(DEFAULT_ACCOUNTS)


class AccountingSettings(db.Model):
    """A seller's accounts and the VAT facts the platform does not know otherwise."""

    __tablename__ = "accounting_settings"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    sales_account: Mapped[str] = mapped_column(sa.String(20))
    vat_collected_account: Mapped[str] = mapped_column(sa.String(20))
    commission_account: Mapped[str] = mapped_column(sa.String(20))
    vat_deductible_account: Mapped[str] = mapped_column(sa.String(20))
    platform_account: Mapped[str] = mapped_column(sa.String(20))
    gift_card_account: Mapped[str] = mapped_column(sa.String(20))
    donation_account: Mapped[str] = mapped_column(sa.String(20))
    bank_account: Mapped[str] = mapped_column(sa.String(20))
    # What is sold at the counter for a gift card is not itemised: its VAT rate (basis points).
    counter_vat_rate_bp: Mapped[int] = mapped_column(default=2000)
    # The seller's intra-community VAT number, printed on the commission invoices it receives.
    vat_number: Mapped[str | None] = mapped_column(sa.String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CommissionInvoice(db.Model):
    """The platform's invoice of one month's commission to one seller: UNIQUE per seller and
    month, so that a job run twice (or two at once) issues one invoice."""

    __tablename__ = "accounting_commission_invoice"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", "month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    year: Mapped[int]
    month: Mapped[int]
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("invoicing_document.id"), unique=True)
    commission_cents: Mapped[int]  # what the ledger kept that month (VAT included)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization = relationship("Organization")
    document = relationship("Document")
