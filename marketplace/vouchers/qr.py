"""A voucher's QR code: its page's https URL, drawn by the core's QR drawing."""
from __future__ import annotations

from marketplace.qr import qr_png
from marketplace.urls import external_url


def voucher_url(voucher) -> str:
    return external_url("vouchers.show", token=voucher.token)


def voucher_png(voucher, *, box_size: int = 8) -> bytes:
    """The QR code of the voucher's page as PNG bytes."""
    return qr_png(voucher_url(voucher), box_size=box_size)
