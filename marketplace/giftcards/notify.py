"""Sending a card: to the recipient of a gift (on its delivery date) or to the buyer, with the
QR code inline and the printable card attached."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from marketplace.db import db, lock_rows, utcnow
from marketplace.giftcards import pdf, qr
from marketplace.giftcards.models import GiftCard
from marketplace.i18n import local_today
from marketplace.notifications.services import Attachment, queue, render_email


def due(card: GiftCard, today: date | None = None) -> bool:
    today = today or local_today()
    return card.delivered_at is None and (card.deliver_on is None or card.deliver_on <= today)


def send_card(card: GiftCard) -> None:
    """Queue the card's email (sent after the commit) and mark it delivered."""
    to = card.recipient_email or card.buyer_email
    if not to:
        return
    url = qr.card_url(card)
    message = render_email("giftcard", to=to, locale=card.locale, card=card, card_url=url,
                           qr_cid="giftcard-qr")
    message.attachments.append(Attachment.from_bytes(
        "gift-card-qr.png", qr.card_png(card, box_size=6), "image/png", inline_cid="giftcard-qr"))
    message.attachments.append(Attachment.from_bytes(
        f"gift-card-{card.code[-4:]}.pdf", pdf.card_pdf(card), "application/pdf"))
    queue(message)
    card.delivered_at = utcnow()


def deliver_due(*, today: date | None = None, limit: int = 500) -> int:
    """Gifts whose delivery date has come: each emailed once (the job's unit of work commits,
    then the emails leave)."""
    today = today or local_today()
    ids = db.session.scalars(
        sa.select(GiftCard.id).where(GiftCard.delivered_at.is_(None),
                                     GiftCard.deliver_on.is_not(None),
                                     GiftCard.deliver_on <= today)
        .order_by(GiftCard.id).limit(limit)
    ).all()
    sent = 0
    for card_id in ids:
        (card,) = lock_rows(GiftCard, [card_id])
        if due(card, today):
            send_card(card)
            sent += 1
    return sent
