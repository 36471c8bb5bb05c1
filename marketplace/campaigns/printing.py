"""For works councils that hand the cards over by hand: the campaign's cards to print (one per A6
page, or four per A4 sheet to cut along the dotted lines), and the signature sheet that each
employee signs on receiving theirs (name, employee number, amount, signature)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext
from fpdf import FPDF

from marketplace.campaigns.models import Beneficiary, Campaign
from marketplace.campaigns.sending import card_lines
from marketplace.db import db
from marketplace.giftcards.pdf import A6_LANDSCAPE, draw_card
from marketplace.i18n import format_day, money_filter
from marketplace.ledger.pdf import GREEN, StatementDocument
from marketplace.pdf import add_unicode_font

LAYOUTS = ("a6", "a4x4")


def issued(campaign: Campaign) -> list[Beneficiary]:
    """The beneficiaries who have a card, in the file's order, with their cards."""
    return list(db.session.scalars(
        sa.select(Beneficiary).where(Beneficiary.campaign_id == campaign.id,
                                     Beneficiary.card_id.is_not(None))
        .options(sa.orm.joinedload(Beneficiary.card))
        .order_by(Beneficiary.line, Beneficiary.id)))


def cards_pdf(campaign: Campaign, *, layout: str = "a6") -> bytes:
    """Every card of the campaign: "a6", one per A6 landscape page; "a4x4", four per A4
    landscape sheet (an A6 is a quarter of an A4), with dotted cutting lines."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout is one of {LAYOUTS}")
    extra = [str(line) for line in card_lines(campaign)]
    pdf = FPDF(format=A6_LANDSCAPE) if layout == "a6" else FPDF(orientation="L", format="A4")
    pdf.set_title(gettext("Cards of the campaign “%(name)s”", name=campaign.name))
    pdf.set_auto_page_break(auto=False)
    add_unicode_font(pdf)
    width, height = A6_LANDSCAPE
    for index, beneficiary in enumerate(issued(campaign)):
        if layout == "a6":
            pdf.add_page()
            x = y = 0
        else:
            if index % 4 == 0:
                pdf.add_page()
            x, y = (index % 2) * width, (index % 4 // 2) * height
        draw_card(pdf, beneficiary.card, x=x, y=y, w=width, h=height, extra=extra,
                  frame=layout == "a4x4")
    if not pdf.pages:
        pdf.add_page()
    return bytes(pdf.output())


def signature_sheet_pdf(campaign: Campaign, *, site_name: str) -> bytes:
    """One line per employee: name, employee number, amount, the card's last 4 characters, the
    date received and a signature box."""
    organization = campaign.organization
    title = gettext("Signature sheet: %(campaign)s", campaign=campaign.name)
    pdf = StatementDocument(gettext("%(organization)s, cards of the campaign “%(campaign)s” "
                                    "handed over", organization=organization.name,
                                    campaign=campaign.name))
    pdf.set_title(title)
    pdf.set_author(site_name)
    pdf.add_page()
    pdf.paragraph(title, size=15, style="B", height=8, color=GREEN)
    pdf.paragraph(organization.name, size=11, style="B", height=6)
    pdf.paragraph(gettext("Each employee signs on receiving their gift card. Cards sent on "
                          "%(date)s.", date=format_day(campaign.send_on, "long")), size=9)
    pdf.ln(2)
    columns = (52, 28, 22, 18, 22, 38)
    titles = (gettext("Name"), gettext("Employee number"), gettext("Amount"), gettext("Card"),
              gettext("Received on"), gettext("Signature"))
    aligns = ("L", "L", "R", "C", "C", "L")
    row_height = 11

    def header():
        pdf.set_font(pdf.family, "B", 8)
        for text, width, align in zip(titles, columns, aligns, strict=True):
            pdf.cell(width, 7, pdf.text_of(text), border="B", align=align)
        pdf.ln()
        pdf.set_font(pdf.family, "", 9)

    header()
    total = 0
    for beneficiary in issued(campaign):
        if pdf.get_y() + row_height > pdf.page_break_trigger:
            pdf.add_page()
            header()
        total += beneficiary.amount_cents
        values = (f"{beneficiary.last_name} {beneficiary.first_name}",
                  beneficiary.employee_number or "", money_filter(beneficiary.amount_cents),
                  "…" + beneficiary.card.code[-4:], "", "")
        for value, width, align in zip(values, columns, aligns, strict=True):
            text = pdf.text_of(value)
            while text and pdf.get_string_width(text) > width - 1:
                text = text[:-1]
            pdf.cell(width, row_height, text, border="B", align=align)
        pdf.ln()
    pdf.ln(3)
    pdf.set_font(pdf.family, "B", 9)
    pdf.cell(0, 6, pdf.text_of(gettext("Total: %(amount)s", amount=money_filter(total))))
    return bytes(pdf.output())
