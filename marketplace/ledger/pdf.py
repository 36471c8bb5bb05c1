"""The statement of account as an A4 PDF for the seller's books: who and which period, the
summary from the opening to the closing balance, how the commission is computed, then every
entry of the period with its date, reference and the balance after it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale, gettext
from fpdf.fonts import FontFace

from marketplace.exports import local_date
from marketplace.i18n import format_day, local_today, money_filter
from marketplace.ledger.labels import kind_label
from marketplace.ledger.statement import Statement
from marketplace.pdf import A4Document

GREEN = (18, 61, 50)
LIGHT = (230, 242, 237)
# Date, operation, reference, gross, commission, net, balance: 180 mm between the margins.
COLUMNS = (19, 43, 40, 18, 24, 18, 18)
ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")


class StatementDocument(A4Document):
    """The statement's pages (the shared A4 layout of marketplace.pdf)."""


def _number(cents: int) -> str:
    """1 234,50 in French, 1,234.50 in English: the table's amounts, in euros."""
    return format_decimal(Decimal(cents).scaleb(-2), format="#,##0.00", locale=get_locale())


def _long(day: date) -> str:
    return format_day(day, "long")


def statement_pdf(result: Statement, *, rate: str, site_name: str, today: date | None = None) -> bytes:
    organization, period = result.organization, result.period
    when = gettext("from %(start)s to %(end)s", start=_long(period.start), end=_long(period.end))
    pdf = StatementDocument(gettext("Statement of account of %(name)s, %(period)s",
                                    name=organization.name, period=when))
    pdf.set_title(gettext("Statement of account"))
    pdf.set_author(site_name)
    pdf.add_page()

    pdf.paragraph(gettext("Statement of account"), size=18, style="B", height=9, color=GREEN)
    pdf.paragraph(organization.name, size=13, style="B", height=7)
    pdf.paragraph(f"{organization.address_line}\n{organization.postcode} {organization.town}")
    if organization.siret:
        pdf.paragraph(gettext("SIRET: %(number)s", number=organization.siret))
    elif organization.rna:
        pdf.paragraph(gettext("RNA: %(number)s", number=organization.rna))
    pdf.ln(2)
    pdf.paragraph(gettext("Period: %(period)s", period=when), style="B")
    pdf.paragraph(gettext("Issued on %(date)s by %(site)s, which collects the payments of your "
                          "sales and sends you what it owes you.",
                          date=_long(today or local_today()), site=site_name), size=9)
    pdf.ln(3)

    summary = [
        (gettext("Opening balance"), result.opening_cents, True),
        (gettext("Sales (gross amount)"), result.sales_cents, False),
        (gettext("Gift cards spent with you (gross amount)"), result.cards_cents, False),
        (gettext("Gift cards given to you"), result.donations_cents, False),
        (gettext("Refunds (gross amount)"), result.refunds_cents, False),
        (gettext("Commission"), -result.commission_cents, False),
        (gettext("Payouts"), result.payouts_cents, False),
        (gettext("Closing balance"), result.closing_cents, True),
    ]
    pdf.set_font(pdf.family, "", 10)
    with pdf.table(col_widths=(120, 60), text_align=("LEFT", "RIGHT"), line_height=6,
                   first_row_as_headings=False, borders_layout="HORIZONTAL_LINES") as table:
        for label, cents, strong in summary:
            row = table.row(style=FontFace(emphasis="BOLD", fill_color=LIGHT) if strong else None)
            row.cell(pdf.text_of(label))
            row.cell(pdf.text_of(money_filter(cents)))
    pdf.ln(3)
    pdf.paragraph(gettext(
        "Commission: %(rate)s of each sale and of each gift card spent with you, computed on "
        "the amount paid and rounded to the cent, deducted before the amount is owed to you. "
        "When a shopper is refunded, the commission on the refunded amount is given back. Gift "
        "cards given to you carry no commission.", rate=rate), size=9, height=4.5)
    pdf.ln(4)

    pdf.paragraph(gettext("Operations of the period"), size=12, style="B", height=7, color=GREEN)
    if not result.lines:
        pdf.paragraph(gettext("No operation in this period."))
        return bytes(pdf.output())
    pdf.paragraph(gettext("Amounts in euros."), size=8, height=5)
    pdf.set_font(pdf.family, "", 8)
    heading = FontFace(emphasis="BOLD", fill_color=LIGHT)
    with pdf.table(col_widths=COLUMNS, text_align=ALIGN, line_height=4.5, headings_style=heading,
                   repeat_headings=1, borders_layout="HORIZONTAL_LINES") as table:
        row = table.row()
        for title in (gettext("Date"), gettext("Operation"), gettext("Reference"),
                      gettext("Gross"), gettext("Commission"), gettext("Net"),
                      gettext("Balance")):
            row.cell(pdf.text_of(title))
        for line in result.lines:
            entry = line.entry
            row = table.row()
            for value in (
                local_date(entry.created_at), kind_label(entry.kind), line.reference,
                "" if line.is_payout else _number(entry.gross_cents),
                "" if line.is_payout else _number(entry.commission_cents),
                _number(entry.amount_cents), _number(line.balance_after_cents),
            ):
                row.cell(pdf.text_of(value))
        row = table.row(style=FontFace(emphasis="BOLD"))
        for value in ("", gettext("Total for the period"), "", _number(result.gross_cents),
                      _number(result.commission_cents), _number(result.net_cents),
                      _number(result.closing_cents)):
            row.cell(pdf.text_of(value))
    return bytes(pdf.output())
