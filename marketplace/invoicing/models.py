"""Documents (quote, pro-forma, invoice, credit note), their lines, the counters that number them
and the bank transfers received against pro-formas.

A document is immutable once issued: what it says (issuer, customer, lines, totals, terms) is
written once, and only a pro-forma's payment status changes afterwards (see `_refuse_changes`).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow
from marketplace.organizations.models import _enum


class DocumentKind(enum.StrEnum):
    QUOTE = "quote"
    PROFORMA = "proforma"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    # The platform's monthly commission to a seller (accounting domain): an invoice in a series
    # of its own, paid when issued by what the platform kept on the seller's sales.
    COMMISSION = "commission"


# Each kind has its own series per calendar year: F-2026-00001, AV-2026-00001, DEV-2026-00001,
# PF-2026-00001. A pro-forma is not an invoice (no VAT is due on it), so it does not take a
# number in the invoices' series; it has its own rather than the quote's, because one quote
# may be followed by several pro-formas (an order changed before it is paid).
PREFIXES = {
    DocumentKind.QUOTE: "DEV",
    DocumentKind.PROFORMA: "PF",
    DocumentKind.INVOICE: "F",
    DocumentKind.CREDIT_NOTE: "AV",
    DocumentKind.COMMISSION: "FC",
}


class PaymentStatus(enum.StrEnum):
    """Of a pro-forma: what the transfers received so far add up to."""

    AWAITING = "awaiting"  # nothing received yet
    PAID = "paid"  # exactly the amount due
    SHORT = "short"  # less than due: a discrepancy, not paid
    EXCESS = "excess"  # more than due: a discrepancy, not paid until the team settles it


class VatTreatment(enum.StrEnum):
    """How a line is taxed."""

    VAT = "vat"  # VAT at the line's rate (the platform's service fee)
    VOUCHER = "voucher"  # multi-purpose voucher (art. 256 ter CGI): no VAT when sold
    FRANCHISE = "franchise"  # the issuer is under the VAT franchise (art. 293 B CGI)


class DocumentCounter(db.Model):
    """The last number given in one series (a kind, a calendar year); its row is locked by the
    UPDATE that takes the next number, until the unit of work ends: numbers are never skipped
    (a rolled-back unit gives its number back) nor given twice."""

    __tablename__ = "invoicing_counter"

    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, 16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Document(db.Model):
    __tablename__ = "invoicing_document"
    __table_args__ = (
        sa.UniqueConstraint("kind", "year", "sequence"),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
        sa.CheckConstraint("total_incl_vat_cents = total_excl_vat_cents + total_vat_cents",
                           name="totals_add_up"),
        sa.CheckConstraint("total_excl_vat_cents >= 0 AND total_vat_cents >= 0",
                           name="totals_not_negative"),
        sa.CheckConstraint("received_cents >= 0", name="received_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, 16))
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    issued_on: Mapped[date]
    sale_on: Mapped[date | None]  # the date of sale, when it is not the date of issue
    due_on: Mapped[date | None]  # payment due (quote: valid until)
    paid_on: Mapped[date | None]  # an invoice issued once paid says so
    # What the document is for, for the domain that asked for it (e.g. "campaign:12"): its
    # documents are found again by this key, never by parsing numbers.
    subject: Mapped[str] = mapped_column(sa.String(60), index=True)
    related_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoicing_document.id"),
                                                   index=True)
    # The platform's legal identity as it was on the day of issue (name, address, SIREN, SIRET,
    # VAT number, legal form, RCS, bank details): a later change of settings changes no
    # document already issued.
    issuer: Mapped[dict] = mapped_column(sa.JSON)
    customer_name: Mapped[str] = mapped_column(sa.String(200))
    customer_address: Mapped[str] = mapped_column(sa.String(400))
    customer_siret: Mapped[str | None] = mapped_column(sa.String(14))
    customer_vat_number: Mapped[str | None] = mapped_column(sa.String(20))
    customer_order_reference: Mapped[str | None] = mapped_column(sa.String(60))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    total_excl_vat_cents: Mapped[int]
    total_vat_cents: Mapped[int]
    total_incl_vat_cents: Mapped[int]
    payment_days: Mapped[int] = mapped_column(default=0)
    # None: three times the French statutory interest rate (the legal minimum).
    late_penalty_rate_bp: Mapped[int | None]
    recovery_indemnity_cents: Mapped[int] = mapped_column(default=4000)
    # Pro-formas: the reference the customer writes on the transfer (ISO 11649, RF...).
    transfer_reference: Mapped[str | None] = mapped_column(sa.String(35), unique=True)
    payment_status: Mapped[PaymentStatus | None] = mapped_column(_enum(PaymentStatus, 10),
                                                                 index=True)
    received_cents: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", order_by="DocumentLine.position", cascade="all, delete-orphan")
    related: Mapped[Document | None] = relationship(remote_side=[id])
    transfers: Mapped[list[BankTransfer]] = relationship(
        back_populates="document", order_by="BankTransfer.id")

    @property
    def printed_customer_siret(self) -> str:
        """732 829 320 00074: the SIRET as it is printed."""
        from stdnum.fr import siret

        return siret.format(self.customer_siret) if self.customer_siret else ""

    @property
    def balance_due_cents(self) -> int:
        """What is still to be received on a pro-forma (negative when too much came)."""
        return self.total_incl_vat_cents - self.received_cents


class DocumentLine(db.Model):
    __tablename__ = "invoicing_line"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "position"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        # Negative only for a credit deducted from vouchers (invoicing.services.credit_line).
        sa.CheckConstraint("unit_price_cents >= 0 OR vat_treatment = 'voucher'",
                           name="only_a_voucher_credit_is_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("invoicing_document.id"))
    position: Mapped[int]
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]  # before VAT
    vat_treatment: Mapped[VatTreatment] = mapped_column(_enum(VatTreatment, 10))
    vat_rate_bp: Mapped[int] = mapped_column(default=0)  # 2000 = 20 %; 0 unless VAT
    total_excl_vat_cents: Mapped[int]

    document: Mapped[Document] = relationship(back_populates="lines")


class BankTransfer(db.Model):
    """A transfer the platform's bank received, recorded against a pro-forma by the team."""

    __tablename__ = "invoicing_transfer"
    __table_args__ = (sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("invoicing_document.id"), index=True)
    amount_cents: Mapped[int]  # received; negative: an excess sent back to the customer
    received_on: Mapped[date]
    bank_reference: Mapped[str] = mapped_column(sa.String(140), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="transfers")


class DocumentIssued(Exception):
    """Code tried to change what an issued document says."""


# What may change on an issued document: a pro-forma's payment, as transfers come in.
MUTABLE = {"payment_status", "received_cents"}


@event.listens_for(Document, "before_update")
def _refuse_changes(mapper, connection, target: Document) -> None:
    state = sa.inspect(target)
    for attr in state.mapper.column_attrs:
        if attr.key not in MUTABLE and state.attrs[attr.key].history.has_changes():
            raise DocumentIssued(f"{target.number}: {attr.key} cannot change once issued")


@event.listens_for(DocumentLine, "before_update")
@event.listens_for(DocumentLine, "before_delete")
def _refuse_line_changes(mapper, connection, target: DocumentLine) -> None:
    raise DocumentIssued("the lines of an issued document cannot change")


@event.listens_for(Document, "before_delete")
def _refuse_deletion(mapper, connection, target: Document) -> None:
    raise DocumentIssued(f"{target.number} cannot be deleted: numbers are never reused")
