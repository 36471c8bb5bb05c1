"""Emails leave only after the commit, in the recipient's language; /dev/outbox shows them."""
from pathlib import Path

import pytest

from marketplace import create_app
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
def development_app(make_app, tmp_path):
    """The development config as `make run` serves it: `flask run` without --debug turns
    DEBUG off (Flask's CLI sets app.debug from FLASK_DEBUG)."""
    app = make_app(
        config_name="development",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    app.debug = False
    with app.app_context():
        yield app


def test_dev_outbox_lists_mails_with_clickable_links(development_app, tmp_path):
    notifications.queue(_message(subject="Confirmez votre adresse"))
    db.session.commit()
    assert len(list(Path(tmp_path / "outbox").glob("*.eml"))) == 1
    response = development_app.test_client().get("/dev/outbox")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Confirmez votre adresse" in page
    assert '<a href="http://localhost/verify/abc">' in page


def test_dev_outbox_is_hidden_outside_development(client):
    assert client.get("/dev/outbox").status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_production_never_shows_the_outbox(monkeypatch, tmp_path, debug):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    app = create_app("production", overrides={
        "SQLALCHEMY_DATABASE_URI": "sqlite://", "DEV_OUTBOX_ENABLED": True, "DEBUG": debug,
        "MAIL_BACKEND": "marketplace.notifications.outbox.EmailBackend",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")})
    assert app.test_client().get("/dev/outbox").status_code == 404


def test_a_savepoint_is_no_commit_and_its_rollback_drops_only_its_own_emails(app, outbox, make_user):
    """A unit goes on after a step rolled back to its SAVEPOINT (the sweeper skips a busy order):
    the emails queued before the step stay queued, those of the step are dropped, and releasing
    a SAVEPOINT sends nothing before the unit commits."""
    make_user()
    notifications.queue(_message(subject="before"))
    with db.session.begin_nested():
        notifications.queue(_message(subject="released"))
    assert outbox == []
    try:
        with db.session.begin_nested():
            notifications.queue(_message(subject="rolled back"))
            raise RuntimeError("this step fails")
    except RuntimeError:
        pass
    assert [m.subject for m in notifications.pending()] == ["before", "released"]
    db.session.commit()
    assert [m.subject for m in outbox] == ["before", "released"]
