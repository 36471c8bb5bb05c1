"""Emails leave only after the commit, in the recipient's language; /dev/outbox shows them."""
from pathlib import Path

import pytest

from marketplace.db import db
from marketplace.notifications import services as notifications
from marketplace.notifications.services import Attachment, OutgoingEmail


def _message(to="ada@example.org", subject="Bonjour"):
    return OutgoingEmail(to=[to], subject=subject, body="Lien : http://localhost/verify/abc")


def test_queued_email_is_sent_after_commit_only(app, outbox, make_user):
    make_user()
    notifications.queue(_message())
    assert outbox == []
    db.session.commit()
    assert [m.subject for m in outbox] == ["Bonjour"]
    # A second commit does not send it again.
    db.session.commit()
    assert len(outbox) == 1


def test_rolled_back_unit_of_work_sends_nothing(app, outbox, make_user):
    make_user()
    notifications.queue(_message())
    db.session.rollback()
    db.session.commit()
    assert outbox == []


def test_email_is_rendered_in_the_recipients_language(app):
    context = {"name": "Ada", "verify_url": "http://localhost/v/x", "valid_for": "3"}
    french = notifications.render_email("account_verify", to="a@example.org", locale="fr", **context)
    english = notifications.render_email("account_verify", to="a@example.org", locale="en", **context)
    assert english.subject.startswith("Confirm your email address")
    assert french.subject.startswith("Confirmez votre adresse")


def test_inline_image_and_attachment_survive_the_trip(app, outbox):
    message = _message()
    message.html = '<p><img src="cid:qr"></p>'
    message.attachments = [
        Attachment.from_bytes("qr.png", b"\x89PNG fake", "image/png", inline_cid="qr"),
        Attachment.from_bytes("bon.pdf", b"%PDF-1.4", "application/pdf"),
    ]
    notifications.queue(message)
    db.session.commit()
    raw = outbox[0].message().as_string()
    assert "Content-ID: <qr>" in raw
    assert 'filename="bon.pdf"' in raw


@pytest.fixture
def debug_app(make_app, tmp_path):
    app = make_app(
        DEBUG=True,
        DEV_OUTBOX_ENABLED=True,
        MAIL_BACKEND="marketplace.notifications.outbox.EmailBackend",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    app.debug = True
    with app.app_context():
        yield app


def test_dev_outbox_lists_mails_with_clickable_links(debug_app, tmp_path):
    notifications.queue(_message(subject="Confirmez votre adresse"))
    db.session.commit()
    assert len(list(Path(tmp_path / "outbox").glob("*.eml"))) == 1
    page = debug_app.test_client().get("/dev/outbox").get_data(as_text=True)
    assert "Confirmez votre adresse" in page
    assert '<a href="http://localhost/verify/abc">' in page


def test_dev_outbox_is_hidden_outside_debug(client):
    assert client.get("/dev/outbox").status_code == 404
