"""The impact in words and as a PDF: the shopfront's line ("1 240 objets réemployés, 3,2 t de
déchets évités") and the yearly impact report of a seller or of a works council's campaign
(fpdf2, marketplace/pdf.py's A4 document)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal
from flask_babel import gettext, ngettext

from marketplace.catalog.models import ImpactKind
from marketplace.i18n import current_locale_code
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter as format_money
from marketplace.insights.impact import Impact
from marketplace.pdf import A4Document

GREEN = (29, 92, 75)
GREY = (90, 90, 90)

KIND_LABELS = {
    ImpactKind.REUSE: _l("Reuse"),
    ImpactKind.REPAIR: _l("Repair and refurbishing"),
    ImpactKind.FAIR_TRADE: _l("Fair trade"),
    ImpactKind.LOCAL_FOOD: _l("Local food"),
    ImpactKind.INTEGRATION: _l("Integration work"),
    None: _l("Other purchases"),
}


def number(value: int) -> str:
    return format_decimal(value, locale=current_locale_code())


def weight(grams: int) -> str:
    """Kilograms under a tonne ("840 kg", "2,5 kg"), tonnes with one decimal above ("3,2 t")."""
    locale = current_locale_code()
    if grams >= 1_000_000:
        tonnes = (Decimal(grams) / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return gettext("%(tonnes)s t", tonnes=format_decimal(tonnes, format="#,##0.0", locale=locale))
    kilograms = (Decimal(grams) / 1000).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return gettext("%(kilograms)s kg", kilograms=format_decimal(kilograms, format="#,##0.#",
                                                                locale=locale))


def shopfront_line(impact: Impact) -> str:
    """The public line of a shopfront; empty when its sales did no measured good yet."""
    parts = []
    if impact.items_reused:
        parts.append(ngettext("%(count)s object reused", "%(count)s objects reused",
                              impact.items_reused, count=number(impact.items_reused)))
    if impact.grams:
        parts.append(gettext("%(weight)s of waste avoided", weight=weight(impact.grams)))
    units = {k.kind: k.units for k in impact.kinds}
    if units.get(ImpactKind.FAIR_TRADE):
        n = units[ImpactKind.FAIR_TRADE]
        parts.append(ngettext("%(count)s fair-trade product sold", "%(count)s fair-trade products sold",
                              n, count=number(n)))
    if units.get(ImpactKind.LOCAL_FOOD):
        n = units[ImpactKind.LOCAL_FOOD]
        parts.append(ngettext("%(count)s local food product sold", "%(count)s local food products sold",
                              n, count=number(n)))
    if units.get(ImpactKind.INTEGRATION):
        n = units[ImpactKind.INTEGRATION]
        parts.append(ngettext("%(count)s purchase that gives work to people in integration",
                              "%(count)s purchases that give work to people in integration",
                              n, count=number(n)))
    return ", ".join(parts)


def report_pdf(*, title: str, subject: str, period: str, impact: Impact, campaign: bool = False) -> bytes:
    """The yearly impact report: `subject` is the seller or the campaign's works council."""
    pdf = A4Document(gettext("%(site)s · impact report", site=subject))
    pdf.set_title(title)
    pdf.set_author(subject)
    pdf.add_page()
    pdf.paragraph(title, size=20, style="B", height=10, color=GREEN)
    pdf.paragraph(subject, size=12, style="B", height=7)
    pdf.paragraph(period, size=10, height=6, color=GREY)
    pdf.ln(4)
    facts = [
        (gettext("Objects reused"), number(impact.items_reused)),
        (gettext("Waste kept out of landfill"), weight(impact.grams)),
        (gettext("Orders"), number(impact.orders)),
        *([(gettext("Sellers supported"), number(impact.sellers))] if campaign else []),
        (gettext("Kinds of impact supported"),
         ", ".join(str(KIND_LABELS[k]) for k in impact.kinds_supported) or "—"),
    ]
    if campaign:
        facts.append((gettext("Spent at sellers' counters"), format_money(impact.counter_cents)))
    _table(pdf, [gettext("Figure"), gettext("Value")], facts, widths=(0.55, 0.45))
    pdf.ln(6)
    pdf.paragraph(gettext("Amounts per kind of impact"), size=13, style="B", height=8, color=GREEN)
    rows = [(str(KIND_LABELS[k.kind]), number(k.units), number(k.sellers), format_money(k.cents))
            for k in impact.kinds]
    rows.append((gettext("Total"), number(sum(k.units for k in impact.kinds)), "",
                 format_money(impact.cents)))
    _table(pdf, [gettext("Kind"), gettext("Units"), gettext("Sellers"), gettext("Amount")], rows,
           widths=(0.4, 0.15, 0.15, 0.3))
    pdf.ln(6)
    notes = [gettext("Counted: the units sold and not refunded of the orders paid in the period "
                     "(collected or still to collect); an order nobody came for is left out."),
             gettext("An object reused is a unit of a product of kind reuse or repair; the waste "
                     "kept out of landfill is each unit's weight as its seller entered it.")]
    if campaign:
        notes.append(gettext("Online: the orders paid, at least in part, with the campaign's "
                             "cards. At the counters only the amount is known, not the goods."))
    for note in notes:
        pdf.paragraph(note, size=8, height=4, color=GREY)
    return bytes(pdf.output())


def _table(pdf: A4Document, header: list[str], rows: list, *, widths: tuple[float, ...]) -> None:
    room = pdf.w - pdf.l_margin - pdf.r_margin
    sizes = [room * w for w in widths]
    pdf.set_font(pdf.family, "B", 9)
    pdf.set_fill_color(230, 240, 236)
    for i, (text, size) in enumerate(zip(header, sizes, strict=True)):
        pdf.cell(size, 7, pdf.text_of(text), border="B", fill=True, align="L" if i == 0 else "R")
    pdf.ln(7)
    pdf.set_font(pdf.family, "", 10)
    for row in rows:
        for i, (text, size) in enumerate(zip(row, sizes, strict=True)):
            pdf.cell(size, 7, pdf.text_of(text), border="B", align="L" if i == 0 else "R")
        pdf.ln(7)
