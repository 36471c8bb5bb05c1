"""A seller's message to its opted-in customers, sent through the job queue in batches.

`queue_message` records the message and one recipient row per consent in force, and once the
unit of work has committed queues one job per batch (`consent.send_batch`, SELLER_MESSAGE_BATCH
addresses each), which the worker runs at the rate SELLER_MESSAGE_BATCH_RATE (a task annotation,
marketplace.jobs). Each job sends its addresses itself and records each outcome: sent, skipped
(the consent was withdrawn meanwhile: an address that unsubscribed gets nothing more), or failed
(tried again later, up to SELLER_MESSAGE_ATTEMPTS times). A recipient is never sent twice.

Against spam: one message per SELLER_MESSAGE_MIN_DAYS days per seller, and only to the
addresses that agreed to hear from it. Every email carries a one-click unsubscribe (a signed
link that works without logging in, and the List-Unsubscribe headers of RFC 8058).
"""
from __future__ import annotations

import smtplib
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace import audit, uow
from marketplace.consent import services
from marketplace.consent.models import MarketingConsent, SellerMessage, SellerMessageRecipient
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import current_locale_code, format_day
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import render_email, send_now
from marketplace.organizations.models import Organization
from marketplace.urls import external_url

SUBJECT_MAX = 150
BODY_MAX = 10000


def min_days() -> int:
    return int(current_app.config["SELLER_MESSAGE_MIN_DAYS"])


def last_message(organization_id: int) -> SellerMessage | None:
    return db.session.scalar(sa.select(SellerMessage)
                             .where(SellerMessage.organization_id == organization_id)
                             .order_by(SellerMessage.created_at.desc(), SellerMessage.id.desc())
                             .limit(1))


def next_allowed_at(organization_id: int, *, now: datetime | None = None) -> datetime | None:
    """When the seller may send its next message; None when it may now."""
    last = last_message(organization_id)
    if last is None:
        return None
    allowed = last.created_at + timedelta(days=min_days())
    return allowed if allowed > (now or utcnow()) else None


def messages_of(organization_id: int) -> list[tuple[SellerMessage, int, int]]:
    """The seller's messages, newest first, each with how many were sent and skipped."""
    rows = db.session.execute(
        sa.select(SellerMessage,
                  sa.func.count(SellerMessageRecipient.sent_at),
                  sa.func.count(SellerMessageRecipient.skipped_at))
        .outerjoin(SellerMessageRecipient, SellerMessageRecipient.message_id == SellerMessage.id)
        .where(SellerMessage.organization_id == organization_id)
        .group_by(SellerMessage.id)
        .order_by(SellerMessage.created_at.desc(), SellerMessage.id.desc())).all()
    return [(message, int(sent), int(skipped)) for message, sent, skipped in rows]


def check_text(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise services.ConsentError(_l("Write a subject and a text."))
    if len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
        raise services.ConsentError(_l("The subject or the text is too long."))
    return subject, body


def queue_message(organization, *, subject: str, body: str, by=None,
                  now: datetime | None = None) -> SellerMessage:
    """Record the message for every consent in force; the batches leave after the commit."""
    now = now or utcnow()
    subject, body = check_text(subject, body)
    lock_rows(Organization, [organization.id])  # two managers sending at once: one message
    allowed = next_allowed_at(organization.id, now=now)
    if allowed is not None:
        raise services.ConsentError(
            _l("You sent a message less than %(days)d days ago: the next one may leave from "
               "%(date)s.", days=min_days(), date=_day(allowed)), status_code=429)
    consent_ids = list(db.session.scalars(
        sa.select(MarketingConsent.id).where(MarketingConsent.organization_id == organization.id,
                                             MarketingConsent.withdrawn_at.is_(None))
        .order_by(MarketingConsent.id)))
    if not consent_ids:
        raise services.ConsentError(_l("No customer has agreed to hear from you yet."),
                                    status_code=409)
    message = SellerMessage(organization_id=organization.id, subject=subject, body=body,
                            created_by_id=getattr(by, "id", None), created_at=now,
                            recipients_count=len(consent_ids))
    db.session.add(message)
    db.session.flush()
    db.session.execute(sa.insert(SellerMessageRecipient),
                       [{"message_id": message.id, "consent_id": consent_id}
                        for consent_id in consent_ids])
    recipient_ids = list(db.session.scalars(
        sa.select(SellerMessageRecipient.id)
        .where(SellerMessageRecipient.message_id == message.id)
        .order_by(SellerMessageRecipient.id)))
    audit.record("customers.message_sent", message, by=by, organization=organization,
                 data={"subject": subject, "count": len(consent_ids)})
    uow.after_commit(enqueue_batches, recipient_ids)
    return message


def _day(moment: datetime) -> str:
    return format_day(moment)


def batches(ids: list[int]) -> list[list[int]]:
    size = int(current_app.config["SELLER_MESSAGE_BATCH"])
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def enqueue_batches(recipient_ids: list[int]) -> None:
    from marketplace.consent.tasks import send_batch

    for batch in batches(recipient_ids):
        send_batch.delay(batch)


# --- one batch -------------------------------------------------------------------------------

def send_batch(recipient_ids: list[int]) -> dict[str, list[int]]:
    """Send the batch's emails now; the outcome of each recipient is recorded. Returns the ids
    per outcome: "sent", "skipped" (consent withdrawn, or already sent) and "failed"."""
    outcome: dict[str, list[int]] = {"sent": [], "skipped": [], "failed": []}
    attempts = int(current_app.config["SELLER_MESSAGE_ATTEMPTS"])
    now = utcnow()
    for recipient in lock_rows(SellerMessageRecipient, recipient_ids):
        if recipient.sent_at is not None or recipient.skipped_at is not None \
                or recipient.failures >= attempts:
            outcome["skipped"].append(recipient.id)
            continue
        consent = recipient.consent
        if consent.withdrawn_at is not None:
            recipient.skipped_at = now
            outcome["skipped"].append(recipient.id)
            continue
        try:
            send_now(message_email(recipient.message, consent))
        except (smtplib.SMTPException, OSError) as exc:
            recipient.failures += 1
            recipient.error = f"{type(exc).__name__}: {exc}"[:300]
            outcome["failed"].append(recipient.id)
            continue
        recipient.sent_at = now
        recipient.error = None
        outcome["sent"].append(recipient.id)
    db.session.flush()
    return outcome


def preview_email(organization, *, subject: str, body: str, to: str):
    """The email as a customer will receive it (with a link that unsubscribes no one)."""
    message = SellerMessage(subject=subject, body=body)
    message.organization = organization
    consent = MarketingConsent(email=to, locale=current_locale_code(), given_at=utcnow(),
                               organization_id=organization.id)
    return message_email(message, consent, stop_url=str(_l("(the unsubscribe link)")))


def message_email(message: SellerMessage, consent: MarketingConsent, *, stop_url=None):
    """The seller's text, and under it why the shopper receives it and the unsubscribe link."""
    stop_url = stop_url or external_url("consent.unsubscribe",
                                        token=services.unsubscribe_token(consent))
    organization = message.organization
    email = render_email(
        "seller_message", to=consent.email, locale=consent.locale, message=message,
        seller=organization.name, consent=consent, stop_url=stop_url)
    if organization.contact_email:
        email.reply_to = [organization.contact_email]
    email.headers = {"List-Unsubscribe": f"<{stop_url}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return email
