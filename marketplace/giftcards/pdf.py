"""The printable gift card: amount, balance, expiry, code and QR code. One card alone on an A6
landscape page (`card_pdf`), or drawn anywhere on a page (`draw_card`: the works councils' batches
of cards to hand over, one per page or four per A4 sheet). A works council's card also says
where it may be spent (URSSAF wants the kinds of goods named on it)."""
from __future__ import annotations

import io

from flask_babel import gettext

from marketplace.giftcards import qr, restrictions
from marketplace.i18n import format_day, money_filter
from marketplace.pdf import latin1, new_document

A6_LANDSCAPE = (148, 105)


def card_pdf(card, *, extra: list[str] = ()) -> bytes:
    """One card on an A6 landscape page; `extra`: lines the issuer adds (who offers it, for
    what event, what becomes of the value left at expiry)."""
    pdf, _text, _line = new_document(A6_LANDSCAPE, title=gettext("Gift card"))
    draw_card(pdf, card, x=0, y=0, w=A6_LANDSCAPE[0], h=A6_LANDSCAPE[1], extra=extra)
    return bytes(pdf.output())


def draw_card(pdf, card, *, x: float, y: float, w: float, h: float, extra: list[str] = (),
              frame: bool = False) -> None:
    """Draw the card in the box (x, y, w, h), in mm, on the current page: its text on the left,
    the QR code of its page and its code on the right; a cutting frame when asked."""
    unicode_ok = "dejavu" in pdf.fonts  # registered by the document (marketplace.pdf)
    family = "DejaVu" if unicode_ok else "Helvetica"

    def text(value) -> str:
        return str(value) if unicode_ok else latin1(str(value))

    if frame:
        pdf.set_draw_color(160, 160, 160)
        pdf.set_dash_pattern(dash=1, gap=1)
        pdf.rect(x + 1, y + 1, w - 2, h - 2)
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)
    size = min(38, h * 0.4)
    text_width = w - size - 22
    pdf.set_xy(x + 8, y + 8)

    def line(value, *, size_pt=11, style="", height=6):
        pdf.set_font(family, style, size_pt)
        pdf.set_x(x + 8)
        pdf.multi_cell(text_width, height, text(value), new_x="LMARGIN", new_y="NEXT")

    line(gettext("Ethical gift card"), size_pt=16, style="B", height=8)
    name = card.recipient_name or getattr(card, "holder_name", None)
    if name:
        line(gettext("For %(name)s", name=name), size_pt=12, height=6)
    line(gettext("Value: %(amount)s", amount=money_filter(card.initial_cents, card.currency)),
         size_pt=12, height=6)
    line(gettext("Balance: %(amount)s", amount=money_filter(card.balance_cents, card.currency)),
         size_pt=12, height=6)
    line(gettext("Valid until %(date)s", date=format_day(card.expires_at, "long")), height=6)
    if card.message:
        line(card.message[:300], size_pt=9, height=5)
    for value in extra:
        line(value, size_pt=8, height=4)
    restriction = restrictions.of_card(card)
    if restriction is None:
        line(gettext("Spend it at any seller of the network, online or at the counter."),
             size_pt=9, height=5)
    else:  # a longer text: kept left of the QR code
        line(restriction.reason, size_pt=8, height=4)
    pdf.image(io.BytesIO(qr.card_png(card, box_size=8)), x=x + w - size - 8, y=y + 8,
              w=size, h=size)
    pdf.set_xy(x + w - size - 14, y + 8 + size)
    pdf.set_font(family, "B", 9)
    pdf.multi_cell(size + 12, 5, text(card.display_code), align="C")
