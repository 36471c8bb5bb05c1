"""The platform's monthly commission invoices to its sellers: for each seller whose ledger kept
commission in a month, one invoice (series FC, numbered by the invoicing domain without a gap),
paid when issued by what was kept. Issuing a month twice, or from two workers at once, gives
each seller one invoice: the seller's row is locked and the invoice looked for again under the
lock, and (seller, month) is UNIQUE."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.accounting import queries
from marketplace.accounting.models import CommissionInvoice
from marketplace.accounting.services import settings_of
from marketplace.db import db, lock_rows
from marketplace.errors import DomainError
from marketplace.i18n import format_day, format_rate, local_today
from marketplace.i18n import lazy_gettext as _l
from marketplace.invoicing import services as invoicing
from marketplace.invoicing.models import VatTreatment
from marketplace.ledger.services import commission_rate_bp
from marketplace.ledger.statement import Period
from marketplace.organizations.models import Organization


class CommissionError(DomainError):
    pass


def excl_vat_of(incl_vat_cents: int, rate_bp: int) -> int:
    """The amount before VAT whose total with VAT (VAT rounded half up) is `incl_vat_cents`;
    when rounding makes no amount give it exactly, the nearest (a cent away)."""
    if not rate_bp:
        return incl_vat_cents
    guess = (incl_vat_cents * 10000 * 2 + 10000 + rate_bp) // (2 * (10000 + rate_bp))
    candidates = (guess, guess - 1, guess + 1)
    return min(candidates, key=lambda h: (abs(h + invoicing.vat_cents(h, rate_bp)
                                              - incl_vat_cents), candidates.index(h)))


def customer_of(organization: Organization) -> invoicing.Customer:
    address = "\n".join(part for part in (
        organization.address_line, f"{organization.postcode} {organization.town}".strip()) if part)
    return invoicing.Customer(organization.name, address, organization.siret or None,
                              settings_of(organization).vat_number)


def _lines(organization, period: Period, sales_cents: int, cards_cents: int):
    """One line for the online sales and one for the cards spent at the counter, before VAT;
    a single line when one of them is nothing (or gave more back than it took)."""
    config = current_app.config
    if config.get("PLATFORM_VAT_NUMBER"):
        treatment, rate = VatTreatment.VAT, config["INVOICING_SERVICE_FEE_VAT_BP"]
    else:
        treatment, rate = VatTreatment.FRANCHISE, 0
    total = excl_vat_of(sales_cents + cards_cents, rate)
    month = format_day(period.start, "LLLL y")
    commission = format_rate(commission_rate_bp(organization))
    if sales_cents > 0 and cards_cents > 0:
        first = excl_vat_of(sales_cents, rate)
        parts = [
            (_("Commission (%(rate)s) on your online sales of %(month)s, less what refunds "
               "gave back", rate=commission, month=month), first),
            (_("Commission (%(rate)s) on the gift cards spent at your counter in %(month)s",
               rate=commission, month=month), total - first),
        ]
    else:
        parts = [(_("Commission (%(rate)s) on your sales of %(month)s, less what refunds "
                    "gave back", rate=commission, month=month), total)]
    return [invoicing.Line(text, 1, amount, treatment, rate) for text, amount in parts]


def subject_of(organization_id: int, period: Period) -> str:
    return f"commission:{organization_id}:{period.start:%Y-%m}"


@dataclass
class IssueRun:
    issued: list[CommissionInvoice] = field(default_factory=list)
    already: int = 0


def month_to_invoice(value: str | None, *, today: date) -> Period:
    """The month asked for ("2026-11"), the last one when none is; a month not over yet is
    refused (its commission may still change)."""
    if not value:
        return Period.month_of(today).previous_month()
    try:
        year, month = (int(part) for part in value.strip().split("-"))
        period = Period.month_of(date(year, month, 1))
    except ValueError:
        raise CommissionError(_l("Give the month as YYYY-MM, for example 2026-11.")) from None
    if period.end >= today:
        raise CommissionError(_l("A month is invoiced once it is over."))
    return period


def issue_month(period: Period, *, issued_on: date | None = None, by=None) -> IssueRun:
    """One commission invoice per seller whose ledger kept commission in `period` (a month),
    unless it has one already; those whose refunds gave back as much as was kept get none."""
    if not period.is_month:
        raise CommissionError(_l("Commission is invoiced per calendar month."))
    issued_on = issued_on or local_today()
    if issued_on <= period.end:
        raise CommissionError(_l("A month is invoiced once it is over."))
    start, end = period.bounds()
    run = IssueRun()
    for organization_id, sales, cards in queries.commission_by_seller(start, end):
        if sales + cards <= 0:
            continue
        if queries.commission_invoice(organization_id, period.start.year, period.start.month):
            run.already += 1
            continue
        (organization,) = lock_rows(Organization, [organization_id])
        # Looked for again under the lock: another run may have issued it meanwhile.
        if queries.commission_invoice(organization_id, period.start.year, period.start.month):
            run.already += 1
            continue
        with force_locale("fr"):  # a French invoice, whoever runs the job
            lines = _lines(organization, period, sales, cards)
        document = invoicing.issue_commission_invoice(
            customer_of(organization), lines, subject=subject_of(organization_id, period),
            sale_on=period.end, issued_on=issued_on, by=by)
        invoice = CommissionInvoice(organization_id=organization_id,
                                    year=period.start.year, month=period.start.month,
                                    document=document, commission_cents=sales + cards)
        db.session.add(invoice)
        db.session.flush()
        run.issued.append(invoice)
    return run

