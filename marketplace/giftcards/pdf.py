"""The printable gift card (A6 landscape PDF): amount, balance, expiry, code and QR code, and
where a works council's card may be spent (URSSAF wants the kinds of goods named on it)."""
from __future__ import annotations

import io

from flask_babel import gettext

from marketplace.giftcards import qr, restrictions
from marketplace.i18n import format_day, money_filter
from marketplace.pdf import new_document


def card_pdf(card) -> bytes:

    pdf, text, line = new_document((148, 105), title=gettext("Gift card"))
    line(gettext("Ethical gift card"), size=16, style="B", height=8)
    if card.recipient_name:
        line(gettext("For %(name)s", name=card.recipient_name), size=12, height=6)
    line(gettext("Value: %(amount)s", amount=money_filter(card.initial_cents, card.currency)),
         size=12, height=6)
    line(gettext("Balance: %(amount)s", amount=money_filter(card.balance_cents, card.currency)),
         size=12, height=6)
    line(gettext("Valid until %(date)s", date=format_day(card.expires_at, "long")), height=6)
    if card.message:
        line(card.message[:300], size=9, height=5)
    size = 38
    restriction = restrictions.of_card(card)
    if restriction is None:
        line(gettext("Spend it at any seller of the network, online or at the counter."), size=9,
             height=5)
    else:  # a longer text: kept left of the QR code
        pdf.set_font(pdf.font_family, "", 8)
        pdf.multi_cell(pdf.w - size - 30, 4, text(restriction.reason), new_x="LMARGIN",
                       new_y="NEXT")
    pdf.image(io.BytesIO(qr.card_png(card, box_size=8)), x=pdf.w - size - 8, y=8,
              w=size, h=size)
    pdf.set_xy(pdf.w - size - 14, 8 + size)
    pdf.set_font(pdf.font_family, "B", 9)
    pdf.multi_cell(size + 12, 5, text(card.display_code), align="C")
    return bytes(pdf.output())
