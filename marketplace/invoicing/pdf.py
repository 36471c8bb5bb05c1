"""A document as an A4 PDF in French, with every mention French law asks of an invoice: who
issues it (name, legal form, address, SIREN, SIRET, VAT number, RCS), who it is for, its
number and dates, each line (designation, quantity, unit price before VAT, VAT rate), the
totals before VAT, per VAT rate and including VAT, the due date, the late-payment penalty and
the 40 € recovery indemnity; a pro-forma adds the bank details and the transfer reference, a
credit note the invoice it cancels.

Rendered from what the document stored on the day of issue, never from today's settings."""
from __future__ import annotations

from flask_babel import force_locale, gettext
from fpdf.fonts import FontFace

from marketplace.i18n import format_day, format_rate, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.invoicing.models import Document, DocumentKind, VatTreatment
from marketplace.invoicing.references import printed
from marketplace.invoicing.services import totals_of
from marketplace.invoicing.transfers import paid_by_card
from marketplace.pdf import A4Document

GREEN = (18, 61, 50)
LIGHT = (230, 242, 237)
GREY = (90, 90, 90)
# Designation, quantity, unit price before VAT, VAT, total before VAT: 180 mm.
COLUMNS = (68, 20, 28, 32, 32)
ALIGN = ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")

TITLES = {
    DocumentKind.QUOTE: _l("Quote"),
    DocumentKind.PROFORMA: _l("Pro-forma invoice"),
    DocumentKind.INVOICE: _l("Invoice"),
    DocumentKind.CREDIT_NOTE: _l("Credit note"),
    DocumentKind.COMMISSION: _l("Commission invoice"),
}


def kind_label(kind: DocumentKind) -> str:
    return str(TITLES[kind])


def document_pdf(document: Document) -> bytes:
    """The PDF of an issued document; always in French (a French legal document)."""
    with force_locale("fr"):
        return _render(document)


def _render(doc: Document) -> bytes:
    issuer = doc.issuer
    title = gettext("%(kind)s %(number)s", kind=kind_label(doc.kind), number=doc.number)
    legal_form = issuer["legal_form"] if issuer["legal_form"].lower() not in issuer["name"].lower() \
        else ""
    footer = " · ".join(part for part in (
        issuer["name"], legal_form,
        gettext("SIRET %(number)s", number=issuer["siret"]) if issuer["siret"] else "",
        gettext("VAT number %(number)s", number=issuer["vat_number"]) if issuer["vat_number"]
        else "") if part)
    pdf = A4Document(footer)
    pdf.set_title(title)
    pdf.set_author(issuer["name"])
    pdf.add_page()

    pdf.paragraph(kind_label(doc.kind), size=20, style="B", height=10, color=GREEN)
    pdf.paragraph(gettext("No. %(number)s", number=doc.number), size=12, style="B", height=7)
    if doc.kind == DocumentKind.PROFORMA:
        pdf.paragraph(gettext("This pro-forma is not an invoice: the invoice is issued once the "
                              "transfer has been received."), size=8, height=4, color=GREY)
    pdf.ln(3)
    _parties(pdf, doc)
    pdf.ln(3)
    _dates(pdf, doc)
    pdf.ln(3)
    _lines(pdf, doc)
    pdf.ln(2)
    _totals(pdf, doc)
    pdf.ln(3)
    _vat_notes(pdf, doc)
    _payment(pdf, doc)
    return bytes(pdf.output())


def _parties(pdf: A4Document, doc: Document) -> None:
    issuer = doc.issuer
    seller = [issuer["name"]]
    if issuer["legal_form"] and issuer["legal_form"].lower() not in issuer["name"].lower():
        seller.append(issuer["legal_form"])
    seller.append(issuer["address"])
    if issuer["siren"]:
        seller.append(gettext("SIREN: %(number)s", number=issuer["siren"]))
    if issuer["siret"]:
        seller.append(gettext("SIRET: %(number)s", number=issuer["siret"]))
    if issuer["vat_number"]:
        seller.append(gettext("Intra-community VAT number: %(number)s",
                              number=issuer["vat_number"]))
    if issuer["rcs"]:
        seller.append(issuer["rcs"])
    if issuer["email"]:
        seller.append(issuer["email"])
    buyer = [doc.customer_name, doc.customer_address]
    if doc.customer_siret:
        # The buyer's SIREN is a mention of its own on the invoices of the 2026 e-invoicing
        # reform; it is the SIRET's first nine digits.
        buyer.append(gettext("SIREN: %(number)s", number=doc.printed_customer_siret[:11]))
        buyer.append(gettext("SIRET: %(number)s", number=doc.printed_customer_siret))
    if doc.customer_vat_number:
        buyer.append(gettext("Intra-community VAT number: %(number)s",
                             number=doc.customer_vat_number))
    top = pdf.get_y()
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 10) / 2
    bottom = top
    for x, heading, text in ((pdf.l_margin, gettext("Issued by"), seller),
                             (pdf.l_margin + width + 10, gettext("Customer"), buyer)):
        pdf.set_xy(x, top)
        pdf.set_font(pdf.family, "B", 9)
        pdf.set_text_color(*GREEN)
        pdf.cell(width, 5, pdf.text_of(heading), new_x="LEFT", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(pdf.family, "", 9)
        pdf.multi_cell(width, 4.5, pdf.text_of("\n".join(text)), new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom)


def _dates(pdf: A4Document, doc: Document) -> None:
    facts = [gettext("Date of issue: %(date)s", date=_day(doc.issued_on))]
    if doc.sale_on:
        facts.append(gettext("Date of sale: %(date)s", date=_day(doc.sale_on)))
    if doc.kind == DocumentKind.QUOTE:
        facts.append(gettext("Valid until: %(date)s", date=_day(doc.due_on)))
    elif doc.due_on:
        facts.append(gettext("Payment due date: %(date)s", date=_day(doc.due_on)))
    if doc.customer_order_reference:
        facts.append(gettext("Your order reference: %(reference)s",
                             reference=doc.customer_order_reference))
    if doc.kind == DocumentKind.CREDIT_NOTE and doc.related is not None:
        facts.append(gettext("Credit note on invoice %(number)s of %(date)s",
                             number=doc.related.number, date=_day(doc.related.issued_on)))
        facts.append(gettext("Reason: %(reason)s", reason=doc.note))
    elif doc.related is not None and doc.related.kind == DocumentKind.QUOTE:
        facts.append(gettext("Follows quote %(number)s", number=doc.related.number))
    elif doc.related is not None:
        facts.append(gettext("Follows pro-forma %(number)s", number=doc.related.number))
    for fact in facts:
        pdf.paragraph(fact, size=10, height=5)


def _vat_cell(line) -> str:
    if line.vat_treatment == VatTreatment.VAT:
        return format_rate(line.vat_rate_bp)
    if line.vat_treatment == VatTreatment.VOUCHER:
        return gettext("No VAT (multi-purpose voucher)")
    return gettext("No VAT (franchise)")


def _lines(pdf: A4Document, doc: Document) -> None:
    pdf.set_font(pdf.family, "", 9)
    heading = FontFace(emphasis="BOLD", fill_color=LIGHT)
    with pdf.table(col_widths=COLUMNS, text_align=ALIGN, line_height=5, headings_style=heading,
                   repeat_headings=1, borders_layout="HORIZONTAL_LINES") as table:
        row = table.row()
        for title in (gettext("Designation"), gettext("Quantity"),
                      gettext("Unit price excl. VAT"), gettext("VAT rate"),
                      gettext("Total excl. VAT")):
            row.cell(pdf.text_of(title))
        for line in doc.lines:
            row = table.row()
            for value in (line.description, str(line.quantity),
                          money_filter(line.unit_price_cents), _vat_cell(line),
                          money_filter(line.total_excl_vat_cents)):
                row.cell(pdf.text_of(value))


def _totals(pdf: A4Document, doc: Document) -> None:
    totals = totals_of(doc.lines)
    rows = [(gettext("Total excl. VAT"), doc.total_excl_vat_cents, False)]
    for rate, (base, vat) in totals.vat_by_rate.items():
        rows.append((gettext("VAT %(rate)s on %(base)s", rate=format_rate(rate),
                             base=money_filter(base)), vat, False))
    untaxed = sum(line.total_excl_vat_cents for line in doc.lines
                  if line.vat_treatment != VatTreatment.VAT)
    if untaxed:
        rows.append((gettext("Not subject to VAT"), untaxed, False))
    rows.append((gettext("Total VAT"), doc.total_vat_cents, False))
    label = (gettext("Total of the credit note incl. VAT") if doc.kind == DocumentKind.CREDIT_NOTE
             else gettext("Total incl. VAT"))
    rows.append((label, doc.total_incl_vat_cents, True))
    pdf.set_font(pdf.family, "", 10)
    pdf.set_x(pdf.w - pdf.r_margin - 110)
    with pdf.table(col_widths=(75, 35), width=110, align="RIGHT", text_align=("LEFT", "RIGHT"),
                   line_height=6, first_row_as_headings=False,
                   borders_layout="HORIZONTAL_LINES") as table:
        for text, cents, strong in rows:
            row = table.row(style=FontFace(emphasis="BOLD", fill_color=LIGHT) if strong else None)
            row.cell(pdf.text_of(text))
            row.cell(pdf.text_of(money_filter(cents)))


def _vat_notes(pdf: A4Document, doc: Document) -> None:
    treatments = {line.vat_treatment for line in doc.lines}
    if VatTreatment.VOUCHER in treatments:
        pdf.paragraph(gettext(
            "Gift cards at face value: multi-purpose vouchers, not subject to VAT when sold "
            "(art. 256 ter of the French General Tax Code); VAT is charged by the seller when "
            "goods or services are bought with them."), size=8, height=4)
    if VatTreatment.FRANCHISE in treatments:
        pdf.paragraph(gettext("VAT not applicable, art. 293 B of the French General Tax Code."),
                      size=8, height=4)
    pdf.ln(2)


def _payment(pdf: A4Document, doc: Document) -> None:
    if doc.kind == DocumentKind.CREDIT_NOTE:
        pdf.paragraph(gettext(
            "This amount is deducted from invoice %(number)s; what was already paid of it is "
            "refunded by transfer.", number=doc.related.number), size=9, height=4.5)
        return
    pdf.paragraph(gettext("Payment"), size=11, style="B", height=6, color=GREEN)
    if doc.kind == DocumentKind.QUOTE:
        pdf.paragraph(gettext(
            "Payment by bank transfer on a pro-forma invoice, or by card, once the quote is "
            "accepted; the invoice is issued once payment is received."), size=9, height=4.5)
    elif doc.kind == DocumentKind.COMMISSION:
        pdf.paragraph(gettext("Paid on %(date)s by deduction from the sales we collected for "
                              "you: nothing is left to pay.", date=_day(doc.paid_on)),
                      size=9, height=4.5, style="B")
    elif doc.paid_on and doc.related is not None and paid_by_card(doc.related):
        pdf.paragraph(gettext("Paid on %(date)s by card: nothing is left to pay.",
                              date=_day(doc.paid_on)), size=9, height=4.5, style="B")
    elif doc.paid_on:
        pdf.paragraph(gettext("Paid on %(date)s by bank transfer: nothing is left to pay.",
                              date=_day(doc.paid_on)), size=9, height=4.5, style="B")
    else:
        pdf.paragraph(gettext("Payment terms: by bank transfer within %(days)s days of the date "
                              "of issue, by %(date)s at the latest.",
                              days=doc.payment_days, date=_day(doc.due_on)), size=9, height=4.5)
    if doc.kind == DocumentKind.PROFORMA:
        _bank_details(pdf, doc)
    pdf.paragraph(gettext("No discount for early payment."), size=8, height=4)
    if doc.late_penalty_rate_bp is None:
        penalty = gettext("Late-payment penalty: three times the French statutory interest "
                          "rate, from the day after the due date.")
    else:
        penalty = gettext("Late-payment penalty: %(rate)s a year, from the day after the due "
                          "date.", rate=format_rate(doc.late_penalty_rate_bp))
    pdf.paragraph(penalty, size=8, height=4)
    pdf.paragraph(gettext(
        "Fixed indemnity for recovery costs owed by a business customer paying late: "
        "%(amount)s (French Commercial Code, art. L441-10 and D441-5).",
        amount=money_filter(doc.recovery_indemnity_cents)), size=8, height=4)


def _bank_details(pdf: A4Document, doc: Document) -> None:
    issuer = doc.issuer
    pdf.ln(1)
    rows = [(gettext("Account holder"), issuer["name"]),
            (gettext("Bank"), issuer["bank_name"]),
            (gettext("IBAN"), issuer["iban"]),
            (gettext("BIC"), issuer["bic"]),
            (gettext("Amount to transfer"), money_filter(doc.total_incl_vat_cents)),
            (gettext("Transfer reference"), printed(doc.transfer_reference))]
    pdf.set_font(pdf.family, "", 10)
    with pdf.table(col_widths=(50, 130), text_align=("LEFT", "LEFT"), line_height=6,
                   first_row_as_headings=False, borders_layout="NONE") as table:
        for label, value in rows:
            strong = label == gettext("Transfer reference")
            row = table.row(style=FontFace(emphasis="BOLD", fill_color=LIGHT) if strong else None)
            row.cell(pdf.text_of(label))
            row.cell(pdf.text_of(value))
    pdf.paragraph(gettext("Write the transfer reference exactly as it is in the label of your "
                          "transfer: it is how your payment is matched to this pro-forma."),
                  size=9, height=4.5, style="B")
    pdf.ln(1)


def _day(value) -> str:
    return format_day(value, "long") if value else ""

