"""QR codes (of a voucher's or a gift card's page, at its https URL) as PNG, and those URLs."""
from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from marketplace.urls import external_url


def voucher_url(voucher) -> str:
    return external_url("vouchers.show", token=voucher.token)


def card_url(card) -> str:
    """A gift card's page (the balance, the QR code of the card)."""
    return external_url("giftcards.show", code=card.code)


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    """A QR code as PNG bytes, with the quiet zone scanners need (4 modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
