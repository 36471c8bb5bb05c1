"""QR codes (of a voucher's or a gift card's page, at its https URL) as PNG, and those URLs."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import qrcode
from flask import current_app
from qrcode.constants import ERROR_CORRECT_M


def public_url(endpoint: str, **values) -> str:
    """A page at the site's public address (SERVER_BASE_URL), whatever host the request came
    through: the same URL in the email, on the page and on the PDF."""
    base = urlsplit(current_app.config["SERVER_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def voucher_url(voucher) -> str:
    return public_url("vouchers.show", token=voucher.token)


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    """A QR code as PNG bytes, with the quiet zone scanners need (4 modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
