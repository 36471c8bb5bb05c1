"""Gifts are emailed on their delivery date, once, with the QR code inline and the PDF."""
import email
from datetime import timedelta

from marketplace.db import db, utcnow
from marketplace.giftcards import notify
from tests.giftcards.helpers import make_card
from tests.payments.helpers import in_unit
from tests.vouchers.helpers import decode_png


def test_a_gift_is_emailed_on_its_day_once_with_its_qr_code(app, outbox):
    today = utcnow().date()
    card = make_card(5000, buyer_name="Camille", recipient_name="Léa",
                     recipient_email="lea@example.org", message="Joyeux anniversaire !",
                     deliver_on=today + timedelta(days=2), locale="en")
    assert in_unit(notify.deliver_due, today=today) == 0 and outbox == []
    assert in_unit(notify.deliver_due, today=today + timedelta(days=2)) == 1
    assert in_unit(notify.deliver_due, today=today + timedelta(days=3)) == 0
    (message,) = outbox
    assert message.to == ["lea@example.org"] and "Léa" in message.subject
    assert "Joyeux anniversaire" in message.body and card.display_code in message.body
    assert "€50.00" in message.body
    parsed = email.message_from_bytes(message.message().as_bytes())
    images = [p.get_payload(decode=True) for p in parsed.walk() if p.get_content_type() == "image/png"]
    pdfs = [p for p in parsed.walk() if p.get_content_type() == "application/pdf"]
    assert decode_png(images[0]) == [f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"]
    assert len(pdfs) == 1
    db.session.expire_all()
    assert card.delivered_at is not None
