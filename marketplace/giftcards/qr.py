"""A gift card's QR code: its page's https URL (the balance, the QR code of the card), drawn by
the core's QR drawing."""
from __future__ import annotations

from marketplace.qr import qr_png
from marketplace.urls import external_url


def card_url(card) -> str:
    """A gift card's page (the balance, the QR code of the card)."""
    return external_url("giftcards.show", code=card.code)


def card_png(card, *, box_size: int = 8) -> bytes:
    """The QR code of the card's page as PNG bytes."""
    return qr_png(card_url(card), box_size=box_size)
