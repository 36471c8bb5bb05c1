"""Emails: rendered and queued during the unit of work, sent only after its commit."""
from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.db import db

_QUEUE_KEY = "outgoing_emails"
_MARKS_KEY = "outgoing_emails.savepoints"


@dataclass
class Attachment:
    filename: str
    content_b64: str
    mimetype: str
    inline_cid: str | None = None  # set for images shown inside the HTML body

    @classmethod
    def from_bytes(cls, filename: str, content: bytes, mimetype: str, inline_cid=None):
        return cls(filename, base64.b64encode(content).decode("ascii"), mimetype, inline_cid)


@dataclass
class OutgoingEmail:
    """A fully rendered email, serialisable so a Celery worker can send it."""

    to: list[str]
    subject: str
    body: str
    html: str | None = None
    reply_to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> OutgoingEmail:
        data = dict(data)
        data["attachments"] = [Attachment(**a) for a in data.get("attachments", [])]
        return cls(**data)


_ONE_LINE = re.compile(r"[ \t\r\n\f\v]+")


def render_email(template: str, *, to: str | list[str], locale: str | None = None, **context):
    """Render templates/emails/<template>.{subject,txt,html} in the recipient's language."""
    recipients = [to] if isinstance(to, str) else list(to)
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    with force_locale(locale):
        # One line: a name or title holding a line break must neither end the header nor
        # make the mail impossible to send.
        # (Only ASCII blanks are folded: the no-break spaces of French typography stay.)
        subject = _ONE_LINE.sub(" ", render_template(f"emails/{template}.subject.txt",
                                                      **context)).strip()
        body = render_template(f"emails/{template}.txt", **context)
        try:
            html = render_template(f"emails/{template}.html", **context)
        except Exception as exc:  # noqa: BLE001 - the HTML part is optional
            if type(exc).__name__ != "TemplateNotFound":
                raise
            html = None
    return OutgoingEmail(to=recipients, subject=subject, body=body, html=html)


def queue_email(template: str, *, to: str | list[str], locale: str | None = None, **context):
    """Render now (request context, right language) and send after the unit of work commits."""
    message = render_email(template, to=to, locale=locale, **context)
    queue(message)
    return message


def queue(message: OutgoingEmail) -> None:
    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_QUEUE_KEY, []).append(message)


def pending() -> list[OutgoingEmail]:
    """Emails queued in the current unit of work and not yet sent (for tests and debugging)."""
    return list(db.session().info.get(_QUEUE_KEY, []))


def send_now(message: OutgoingEmail) -> None:
    from flask_mailman import EmailMultiAlternatives

    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=message.to,
        reply_to=message.reply_to or None,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        content = base64.b64decode(attachment.content_b64)
        if attachment.inline_cid:
            from email.mime.image import MIMEImage

            part = MIMEImage(content, _subtype=attachment.mimetype.split("/")[-1])
            part.add_header("Content-ID", f"<{attachment.inline_cid}>")
            part.add_header("Content-Disposition", "inline", filename=attachment.filename)
            email.attach(part)
        else:
            email.attach(attachment.filename, content, attachment.mimetype)
    email.send()


def _after_commit(session: Session) -> None:
    # A SAVEPOINT released is no commit: the emails wait for the real one (the unit's end, or
    # a named durable step, marketplace.uow).
    if session.in_nested_transaction():
        return
    session.info.pop(_MARKS_KEY, None)
    messages = session.info.pop(_QUEUE_KEY, None)
    if not messages:
        return
    from marketplace.extensions import celery
    from marketplace.notifications.tasks import send_email

    for message in messages:
        try:
            if celery.conf.task_always_eager:
                # No broker: sent here. Not through the eager task, whose unit of work would
                # try to commit the session while it is still ending this very commit.
                send_now(message)
            else:
                send_email.delay(message.to_dict())
        except Exception:  # noqa: BLE001 - the commit stands; a lost mail is logged, not a 500
            current_app.logger.exception("Could not send or queue email %r", message.subject)


def _after_transaction_create(session: Session, transaction) -> None:
    if transaction.nested:  # a SAVEPOINT: remember what was queued before it
        marks = session.info.setdefault(_MARKS_KEY, {})
        marks[id(transaction)] = len(session.info.get(_QUEUE_KEY, []))


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    """A rolled back SAVEPOINT drops only the emails queued inside it (a unit goes on after a
    refused step: a busy order skipped by the sweeper); the whole unit rolled back drops all."""
    if previous_transaction.nested:
        mark = session.info.get(_MARKS_KEY, {}).pop(id(previous_transaction), None)
        if mark is not None and _QUEUE_KEY in session.info:
            del session.info[_QUEUE_KEY][mark:]
    elif previous_transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
        session.info.pop(_MARKS_KEY, None)


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_create", _after_transaction_create)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
