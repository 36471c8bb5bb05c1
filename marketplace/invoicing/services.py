"""Issuing numbered documents from plain values: a customer, lines, the subject they are for.

The calling domain (works-council campaigns) decides what is sold; this one numbers the
document, copies the platform's legal identity onto it, computes the totals and keeps it as
issued. Nothing here commits: the unit of work around the caller does, and until then the
series' counter row stays locked (see numbering.py), so issue documents at the end of a unit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from stdnum.fr import siret as siret_number

from marketplace import audit
from marketplace.db import db, lock_rows
from marketplace.errors import DomainError
from marketplace.i18n import format_day, local_today, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.invoicing.issuer import issuer_snapshot
from marketplace.invoicing.models import (
    Document,
    DocumentKind,
    DocumentLine,
    PaymentStatus,
    VatTreatment,
)
from marketplace.invoicing.numbering import format_number, next_sequence
from marketplace.invoicing.references import transfer_reference


class InvoicingError(DomainError):
    """A document that cannot be issued as asked; the message says why."""


@dataclass(frozen=True)
class Customer:
    """Who the document is addressed to (a works council): its name and postal address (one
    or several lines), its SIRET and intra-community VAT number when it has them."""

    name: str
    address: str
    siret: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True)
class Line:
    """One line: a quantity of a thing at a unit price before VAT, and how it is taxed."""

    description: str
    quantity: int
    unit_price_cents: int
    vat: VatTreatment = VatTreatment.VAT
    vat_rate_bp: int = 0

    @property
    def total_excl_vat_cents(self) -> int:
        return self.quantity * self.unit_price_cents


def voucher_line(description: str, *, quantity: int, face_value_cents: int) -> Line:
    """Gift cards at their face value: multi-purpose vouchers, sold without VAT (art. 256 ter
    CGI; the seller charges VAT when goods are bought with them)."""
    return Line(description, quantity, face_value_cents, VatTreatment.VOUCHER, 0)


def credit_line(description: str, *, amount_cents: int) -> Line:
    """A credit the customer holds, deducted from the vouchers' face value: one line at minus
    `amount_cents`, without VAT as the vouchers it comes off (their value left unspent on an
    earlier order's cards). The document's total never goes below zero (the caller keeps the
    credit within the face value; `_issue` checks)."""
    return Line(description, 1, -amount_cents, VatTreatment.VOUCHER, 0)


def service_fee_line(description: str, *, amount_excl_vat_cents: int, quantity: int = 1) -> Line:
    """The platform's service fee, a service with VAT at INVOICING_SERVICE_FEE_VAT_BP; without
    VAT when the platform has no VAT number (franchise, art. 293 B CGI)."""
    if not current_app.config.get("PLATFORM_VAT_NUMBER"):
        return Line(description, quantity, amount_excl_vat_cents, VatTreatment.FRANCHISE, 0)
    return Line(description, quantity, amount_excl_vat_cents, VatTreatment.VAT,
                current_app.config["INVOICING_SERVICE_FEE_VAT_BP"])


@dataclass(frozen=True)
class Totals:
    excl_vat_cents: int
    vat_by_rate: dict[int, tuple[int, int]]  # rate_bp -> (base before VAT, VAT)
    vat_cents: int
    incl_vat_cents: int


def vat_cents(base_cents: int, rate_bp: int) -> int:
    """VAT on a base, rounded half up to the cent (computed per rate, on the rate's total)."""
    return (base_cents * rate_bp + 5000) // 10000


def totals_of(lines) -> Totals:
    """Totals before VAT, VAT per rate, including VAT; works on Line and DocumentLine."""
    bases: dict[int, int] = defaultdict(int)
    excl = 0
    for line in lines:
        excl += line.total_excl_vat_cents
        rate = line.vat_rate_bp if _treatment(line) == VatTreatment.VAT else None
        if rate is not None:
            bases[rate] += line.total_excl_vat_cents
    by_rate = {rate: (base, vat_cents(base, rate)) for rate, base in sorted(bases.items())}
    vat = sum(v for _, v in by_rate.values())
    return Totals(excl, by_rate, vat, excl + vat)


def _treatment(line) -> VatTreatment:
    return line.vat if isinstance(line, Line) else line.vat_treatment


# --- issuing ---------------------------------------------------------------------------------


def issue_quote(customer: Customer, lines: list[Line], *, subject: str,
                order_reference: str | None = None, issued_on: date | None = None,
                by=None) -> Document:
    """A numbered quote (DEV-2026-00001), valid INVOICING_QUOTE_VALIDITY_DAYS days."""
    issued_on = issued_on or local_today()
    days = current_app.config["INVOICING_QUOTE_VALIDITY_DAYS"]
    return _issue(DocumentKind.QUOTE, customer, lines, subject=subject, issued_on=issued_on,
                  due_on=issued_on + timedelta(days=days), payment_days=days,
                  order_reference=order_reference, by=by)


def issue_proforma(customer: Customer, lines: list[Line], *, subject: str,
                   quote: Document | None = None, order_reference: str | None = None,
                   issued_on: date | None = None, by=None) -> Document:
    """A numbered pro-forma (PF-2026-00001) to be paid by bank transfer: it carries the
    platform's bank details and a transfer reference (ISO 11649, "RF..."), and waits for
    transfers (record them with transfers.record_transfer)."""
    if quote is not None and quote.kind != DocumentKind.QUOTE:
        raise InvoicingError(_l("A pro-forma follows a quote, not another document."))
    issued_on = issued_on or local_today()
    days = current_app.config["INVOICING_PAYMENT_DAYS"]
    document = _issue(DocumentKind.PROFORMA, customer, lines, subject=subject,
                      issued_on=issued_on, due_on=issued_on + timedelta(days=days),
                      payment_days=days, order_reference=order_reference, related=quote, by=by)
    return document


def proforma_from_quote(quote: Document, *, issued_on: date | None = None, by=None) -> Document:
    """The pro-forma of an accepted quote: the same customer and lines."""
    return issue_proforma(_customer_of(quote), _lines_of(quote), subject=quote.subject,
                          quote=quote, order_reference=quote.customer_order_reference,
                          issued_on=issued_on, by=by)


def issue_invoice(customer: Customer, lines: list[Line], *, subject: str,
                  sale_on: date | None = None, paid_on: date | None = None,
                  related: Document | None = None, order_reference: str | None = None,
                  issued_on: date | None = None, by=None) -> Document:
    """A numbered invoice (F-2026-00001). `paid_on`: it was paid before it was issued (it says
    so, and is due on its date of issue); otherwise it is due in INVOICING_PAYMENT_DAYS days.
    `sale_on`: the date of the sale when it is not the date of issue."""
    issued_on = issued_on or local_today()
    if paid_on is not None:
        due_on, days = issued_on, 0
    else:
        days = current_app.config["INVOICING_PAYMENT_DAYS"]
        due_on = issued_on + timedelta(days=days)
    document = _issue(DocumentKind.INVOICE, customer, lines, subject=subject,
                      issued_on=issued_on, due_on=due_on, payment_days=days,
                      order_reference=order_reference, related=related, by=by,
                      sale_on=sale_on if sale_on != issued_on else None, paid_on=paid_on)
    return document


def issue_commission_invoice(customer: Customer, lines: list[Line], *, subject: str,
                             sale_on: date, issued_on: date | None = None, by=None) -> Document:
    """A numbered commission invoice (FC-2026-00001, a series of its own) from the platform to
    a seller, for the commission kept on its sales up to `sale_on` (the last day of the month
    invoiced): paid on the day of issue, by what was kept."""
    issued_on = issued_on or local_today()
    return _issue(DocumentKind.COMMISSION, customer, lines, subject=subject,
                  issued_on=issued_on, due_on=issued_on, payment_days=0, order_reference=None,
                  by=by, sale_on=sale_on if sale_on != issued_on else None, paid_on=issued_on)


def invoice_for_proforma(proforma: Document, *, sale_on: date | None = None,
                         issued_on: date | None = None, by=None) -> Document:
    """The invoice of a paid pro-forma (same customer, lines and total), marked paid on the day
    of its last transfer. Asked twice (a job run again), it returns the invoice already issued:
    one sale, one invoice."""
    (proforma,) = lock_rows(Document, [proforma.id])  # two callers at once: one invoice
    if proforma.kind != DocumentKind.PROFORMA:
        raise InvoicingError(_l("Only a pro-forma can be invoiced this way."))
    existing = db.session.scalar(sa.select(Document).where(
        Document.related_id == proforma.id, Document.kind == DocumentKind.INVOICE))
    if existing is not None:
        return existing
    if proforma.payment_status != PaymentStatus.PAID:
        raise InvoicingError(_l("Pro-forma %(number)s is not paid: the invoice is issued once "
                                "the transfer has been received in full.", number=proforma.number),
                             status_code=409)
    paid_on = max(t.received_on for t in proforma.transfers)
    return issue_invoice(_customer_of(proforma), _lines_of(proforma), subject=proforma.subject,
                         sale_on=sale_on, paid_on=paid_on, related=proforma,
                         order_reference=proforma.customer_order_reference,
                         issued_on=issued_on, by=by)


def issue_credit_note(invoice: Document, lines: list[Line], *, reason: str,
                      issued_on: date | None = None, by=None) -> Document:
    """A numbered credit note (AV-2026-00001) cancelling all or part of `invoice`, which it
    names. The credit notes of an invoice never add up to more than the invoice."""
    (invoice,) = lock_rows(Document, [invoice.id])  # two credit notes at once: checked in turn
    if invoice.kind != DocumentKind.INVOICE:
        raise InvoicingError(_l("A credit note cancels an invoice, not another document."))
    reason = (reason or "").strip()
    if not reason:
        raise InvoicingError(_l("Say why the credit note is issued (for example: a card "
                                "cancelled before it was sent)."))
    if len(reason) > 500:
        raise InvoicingError(_l("The reason is too long (500 characters at most)."))
    credited = db.session.scalar(sa.select(sa.func.coalesce(
        sa.func.sum(Document.total_incl_vat_cents), 0)).where(
        Document.related_id == invoice.id, Document.kind == DocumentKind.CREDIT_NOTE))
    _check_lines(lines)
    amount = totals_of(lines).incl_vat_cents
    if credited + amount > invoice.total_incl_vat_cents:
        raise InvoicingError(_l(
            "A credit note of %(amount)s would take the credit notes of invoice %(number)s "
            "above its total: %(left)s can still be credited.",
            amount=money_filter(amount), number=invoice.number,
            left=money_filter(invoice.total_incl_vat_cents - credited)), status_code=409)
    return _issue(DocumentKind.CREDIT_NOTE, _customer_of(invoice), lines, subject=invoice.subject,
                  issued_on=issued_on or local_today(), due_on=None, payment_days=0,
                  order_reference=invoice.customer_order_reference, related=invoice, by=by,
                  note=reason)


def documents_for(subject: str) -> list[Document]:
    """Every document issued for a subject (e.g. "campaign:12"), oldest first."""
    return list(db.session.scalars(
        sa.select(Document).where(Document.subject == subject).order_by(Document.id)))


# --- internals -------------------------------------------------------------------------------


def _issue(kind: DocumentKind, customer: Customer, lines: list[Line], *, subject: str,
           issued_on: date, due_on: date | None, payment_days: int,
           order_reference: str | None, related: Document | None = None, by=None,
           sale_on: date | None = None, paid_on: date | None = None, note: str = "") -> Document:
    customer = _checked_customer(customer)
    _check_lines(lines)
    subject = (subject or "").strip()
    if not subject or len(subject) > 60:
        raise InvoicingError(_l("A document needs a subject of 60 characters at most."))
    order_reference = (order_reference or "").strip() or None
    if order_reference and len(order_reference) > 60:
        raise InvoicingError(_l("The order reference is too long (60 characters at most)."))
    totals = totals_of(lines)
    config = current_app.config
    year = issued_on.year
    sequence = next_sequence(kind, year)  # locks the series until the unit ends
    _check_chronology(kind, year, sequence, issued_on)
    document = Document(
        kind=kind, year=year, sequence=sequence, number=format_number(kind, year, sequence),
        issued_on=issued_on, sale_on=sale_on, due_on=due_on, paid_on=paid_on, subject=subject,
        related=related, issuer=issuer_snapshot(config),
        customer_name=customer.name, customer_address=customer.address,
        customer_siret=customer.siret, customer_vat_number=customer.vat_number,
        customer_order_reference=order_reference, currency="EUR",
        total_excl_vat_cents=totals.excl_vat_cents, total_vat_cents=totals.vat_cents,
        total_incl_vat_cents=totals.incl_vat_cents, payment_days=payment_days,
        late_penalty_rate_bp=config["INVOICING_LATE_PENALTY_RATE_BP"],
        recovery_indemnity_cents=config["INVOICING_RECOVERY_INDEMNITY_CENTS"],
        received_cents=0, note=note,
        lines=[DocumentLine(position=i, description=line.description.strip(),
                            quantity=line.quantity, unit_price_cents=line.unit_price_cents,
                            vat_treatment=line.vat, vat_rate_bp=line.vat_rate_bp,
                            total_excl_vat_cents=line.total_excl_vat_cents)
               for i, line in enumerate(lines, start=1)],
    )
    if kind == DocumentKind.PROFORMA:
        document.transfer_reference = transfer_reference(document.number)
        document.payment_status = PaymentStatus.AWAITING
    db.session.add(document)
    db.session.flush()
    audit.record("invoicing.issued", document, by=by, data={
        "number": document.number, "kind": kind.value,
        "amount_cents": document.total_incl_vat_cents, "customer": customer.name})
    return document


def _check_chronology(kind: DocumentKind, year: int, sequence: int, issued_on: date) -> None:
    """Numbers follow dates: a document is never dated before the one numbered before it."""
    if sequence == 1:
        return
    previous = db.session.scalar(sa.select(Document.issued_on).where(
        Document.kind == kind, Document.year == year, Document.sequence == sequence - 1))
    if previous is not None and previous > issued_on:
        raise InvoicingError(_l(
            "This document cannot be dated %(date)s: the one numbered before it is dated "
            "%(previous)s, and numbers follow dates.",
            date=format_day(issued_on, "long"), previous=format_day(previous, "long")),
            status_code=409)


def _checked_customer(customer: Customer) -> Customer:
    name, address = (customer.name or "").strip(), (customer.address or "").strip()
    if not name or len(name) > 200:
        raise InvoicingError(_l("The customer's name is missing or too long (200 characters "
                                "at most)."))
    if not address or len(address) > 400:
        raise InvoicingError(_l("The customer's postal address is missing or too long (400 "
                                "characters at most)."))
    siret = None
    if customer.siret:
        siret = siret_number.compact(customer.siret)
        if not siret_number.is_valid(siret):
            raise InvoicingError(_l("The customer's SIRET %(siret)s is not valid: 14 digits "
                                    "with a check digit.", siret=customer.siret))
    vat_number = (customer.vat_number or "").replace(" ", "").upper() or None
    if vat_number and len(vat_number) > 20:
        raise InvoicingError(_l("The customer's VAT number is too long."))
    return Customer(name, address, siret, vat_number)


def _check_lines(lines: list[Line]) -> None:
    if not lines:
        raise InvoicingError(_l("A document needs at least one line."))
    for line in lines:
        if not (line.description or "").strip() or len(line.description.strip()) > 300:
            raise InvoicingError(_l("Each line needs a description of 300 characters at most."))
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) \
                or line.quantity < 1:
            raise InvoicingError(_l("A line's quantity is a whole number, 1 or more."))
        if not isinstance(line.unit_price_cents, int) or isinstance(line.unit_price_cents, bool) \
                or (line.unit_price_cents < 0 and line.vat != VatTreatment.VOUCHER):
            raise InvoicingError(_l("A line's unit price is an amount in cents, 0 or more."))
        if line.vat == VatTreatment.VAT and not 0 < line.vat_rate_bp <= 10000:
            raise InvoicingError(_l("A line with VAT needs its rate."))
        if line.vat != VatTreatment.VAT and line.vat_rate_bp:
            raise InvoicingError(_l("A line without VAT has no VAT rate."))
    if totals_of(lines).excl_vat_cents < 0:
        raise InvoicingError(_l("A credit cannot take a document's total below zero."))


def _customer_of(document: Document) -> Customer:
    return Customer(document.customer_name, document.customer_address, document.customer_siret,
                    document.customer_vat_number)


def _lines_of(document: Document) -> list[Line]:
    return [Line(line.description, line.quantity, line.unit_price_cents, line.vat_treatment,
                 line.vat_rate_bp) for line in document.lines]

