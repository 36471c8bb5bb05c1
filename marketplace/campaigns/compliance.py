"""The compliance file of a campaign, for the works council's records (and an URSSAF audit):
each beneficiary, the rule applied, the amount and the year's running total, as CSV (Excel in
French: semicolons, byte-order mark, decimal comma) and as PDF."""
from __future__ import annotations

from flask_babel import gettext

from marketplace.campaigns.labels import EVENT_LABELS
from marketplace.campaigns.urssaf import RULE_LABELS, CampaignCheck, LineCheck
from marketplace.exports import amount, cell, csv_text
from marketplace.i18n import format_day, format_rate, money_filter
from marketplace.ledger.pdf import GREEN, LIGHT, StatementDocument, _number


def _rule(line: LineCheck) -> str:
    codes = line.reasons if line.at_risk_cents else [line.rule]
    return " ; ".join(str(RULE_LABELS[code]) for code in codes)


def _header() -> list[str]:
    return [gettext("Line"), gettext("Last name"), gettext("First name"), gettext("Email"),
            gettext("Employee number"), gettext("Children"), gettext("Amount"),
            gettext("Year's running total"), gettext("Year's total"), gettext("Limit applied"),
            gettext("Rule applied"), gettext("Amount at risk")]


def compliance_csv(check: CampaignCheck) -> str:
    rows = []
    for line in check.lines:
        b = line.beneficiary
        rows.append([b.line, cell(b.last_name), cell(b.first_name), cell(b.email),
                     cell(b.employee_number or ""), b.children, amount(b.amount_cents),
                     amount(line.running_total_cents), amount(line.year_total_cents),
                     amount(line.limit_cents), _rule(line),
                     amount(line.at_risk_cents + line.other_at_risk_cents)])
    return csv_text(_header(), rows)


# Line, name, email, number, children, amount, running total, year, rule, at risk: 267 mm.
COLUMNS = (10, 40, 48, 16, 12, 18, 26, 24, 49, 24)
ALIGN = ("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT", "RIGHT")


ROW_HEIGHT = 4.2


def _fit(pdf, text: str, width: float) -> str:
    """The text cut to the column's width (a name or an address longer than its column)."""
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width(text + "…") > width - 1:
        text = text[:-1]
    return text + "…"


def _wrap(pdf, text: str, width: float) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}".strip()
        if current and pdf.get_string_width(candidate) > width - 1:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def _table_header(pdf, titles) -> None:
    pdf.set_font(pdf.family, "B", 6.5)
    pdf.set_fill_color(*LIGHT)
    for title, width, align in zip(titles, COLUMNS, ALIGN, strict=True):
        pdf.cell(width, ROW_HEIGHT + 1, _fit(pdf, pdf.text_of(title), width), border="B",
                 align=align[0], fill=True)
    pdf.ln()
    pdf.set_font(pdf.family, "", 6.5)


def _table_row(pdf, values: list[str], titles) -> None:
    rule = _wrap(pdf, values[8], COLUMNS[8]) if len(values[8]) > 30 else [values[8]]
    height = ROW_HEIGHT * len(rule)
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page(orientation="L")
        _table_header(pdf, titles)  # repeated on every page
    x, y = pdf.get_x(), pdf.get_y()
    for index, (value, width, align) in enumerate(zip(values, COLUMNS, ALIGN, strict=True)):
        if index == 8:
            for number, text in enumerate(rule):
                pdf.set_xy(x, y + number * ROW_HEIGHT)
                pdf.cell(width, ROW_HEIGHT, text, align=align[0])
            pdf.set_xy(x + width, y)
        else:
            # Only the texts a person wrote may be longer than their column.
            text = _fit(pdf, value, width) if index in (1, 2, 3) else value
            pdf.cell(width, ROW_HEIGHT, text, align=align[0])
        x += width
    pdf.set_xy(pdf.l_margin, y + height)
    pdf.set_draw_color(220, 220, 220)
    pdf.line(pdf.l_margin, y + height, pdf.l_margin + sum(COLUMNS), y + height)


def compliance_pdf(check: CampaignCheck, *, site_name: str) -> bytes:
    campaign = check.campaign
    organization = campaign.organization
    title = gettext("URSSAF compliance file: %(campaign)s", campaign=campaign.name)
    pdf = StatementDocument(gettext("%(organization)s, compliance file of the campaign "
                                    "“%(campaign)s”", organization=organization.name,
                                    campaign=campaign.name))
    pdf.set_title(title)
    pdf.set_author(site_name)
    pdf.add_page(orientation="L")
    pdf.paragraph(title, size=16, style="B", height=8, color=GREEN)
    pdf.paragraph(organization.name, size=12, style="B", height=6)
    if organization.siret:
        pdf.paragraph(gettext("SIRET: %(number)s", number=organization.siret))
    pdf.paragraph(gettext(
        "Event: %(event)s. Year: %(year)s. Sent on %(date)s.",
        event=EVENT_LABELS[campaign.event], year=campaign.year,
        date=format_day(campaign.send_on, "long")))
    pdf.paragraph(gettext(
        "Monthly social security ceiling (PMSS) of %(year)s: %(pmss)s; %(rate)s of it: "
        "%(threshold)s per employee and year, then per event.", year=check.year,
        pmss=money_filter(check.pmss_cents), rate=format_rate(500),
        threshold=money_filter(check.threshold_cents)), size=9)
    pdf.paragraph(gettext(
        "The totals count every campaign of the works council in %(year)s (cancelled ones "
        "aside), employees matched by employee number, else by email. A voucher that does not "
        "meet the conditions is reassessed on its whole amount.", year=check.year), size=9)
    pdf.ln(2)
    with pdf.table(col_widths=(150, 60), text_align=("LEFT", "RIGHT"), line_height=6,
                   first_row_as_headings=False, borders_layout="HORIZONTAL_LINES",
                   width=210, align="LEFT") as table:
        for label, cents in ((gettext("Beneficiaries"), None), (gettext("Total of the campaign"),
                                                                check.total_cents),
                             (gettext("Amount at risk"), check.at_risk_cents)):
            row = table.row()
            row.cell(pdf.text_of(label))
            row.cell(pdf.text_of(str(len(check.lines)) if cents is None else money_filter(cents)))
    pdf.ln(3)
    pdf.paragraph(gettext("Amounts in euros."), size=8, height=5)
    titles = (gettext("Line"), gettext("Name"), gettext("Email"), gettext("Employee number"),
              gettext("Children"), gettext("Amount"), gettext("Year's running total"),
              gettext("Year's total"), gettext("Rule applied"), gettext("Amount at risk"))
    # Rows drawn cell by cell: fpdf2's table() took 6 ms a row (2 minutes for 20,000
    # beneficiaries); plain cells take a fraction of that. Only the rule may need a second line.
    _table_header(pdf, titles)
    for line in check.lines:
        b = line.beneficiary
        at_risk = line.at_risk_cents + line.other_at_risk_cents
        values = [str(b.line), f"{b.last_name} {b.first_name}", b.email,
                  b.employee_number or "", str(b.children), _number(b.amount_cents),
                  _number(line.running_total_cents), _number(line.year_total_cents), _rule(line),
                  _number(at_risk) if at_risk else ""]
        _table_row(pdf, [pdf.text_of(value) for value in values], titles)
    return bytes(pdf.output())
