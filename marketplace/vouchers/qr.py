"""The voucher's QR code (its page's https URL) as PNG, and the URL itself."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import qrcode
from flask import current_app
from qrcode.constants import ERROR_CORRECT_M


def voucher_url(voucher) -> str:
    """The voucher page at the site's public address (SERVER_BASE_URL), whatever host the
    request came through: the same URL in the email, on the page and on the PDF."""
    base = urlsplit(current_app.config["SERVER_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build("vouchers.show", {"token": voucher.token}, force_external=True)


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    """A QR code as PNG bytes, with the quiet zone scanners need (4 modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
