"""The printable voucher (A5 PDF): seller, address, slot, lines, the QR code and the short code."""
from __future__ import annotations

import io

from flask_babel import gettext

from marketplace.i18n import format_period
from marketplace.i18n import money_filter as format_money
from marketplace.pdf import new_document
from marketplace.vouchers import qr


def voucher_pdf(voucher) -> bytes:
    part = voucher.part
    order = part.order
    slot = part.slot
    location = slot.location
    pdf, text, line = new_document((148, 210),  # A5, in mm
                                   title=gettext("Voucher %(code)s", code=voucher.display_code))
    pdf.set_author(part.organization.name)
    family = pdf.font_family

    line(gettext("Pickup voucher"), size=18, style="B", height=9)
    line(part.organization.name, size=14, style="B", height=8)
    line(gettext("Order %(reference)s", reference=order.reference))
    line(order.name)
    pdf.ln(2)
    line(gettext("Pickup"), style="B")
    line(format_period(slot.starts_at, slot.ends_at, "full"))
    line(f"{location.name}\n{location.address_line}\n{location.postcode} {location.town}")
    if location.instructions:
        line(location.instructions, size=9, height=5)
    pdf.ln(2)

    size = 60
    x = (pdf.w - size) / 2
    pdf.image(io.BytesIO(qr.voucher_png(voucher, box_size=10)), x=x, w=size, h=size)
    pdf.set_font(family, "B", 20)
    pdf.cell(0, 10, voucher.display_code, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    line(gettext("To collect"), style="B")
    for item in part.lines:
        left = item.quantity - item.refunded_quantity
        if left > 0:
            line(gettext("%(quantity)d × %(title)s", quantity=left, title=item.title), size=10,
                 height=5)
    line(gettext("Subtotal: %(amount)s",
                 amount=format_money(part.subtotal_cents, order.currency)), size=10, height=5)
    return bytes(pdf.output())
