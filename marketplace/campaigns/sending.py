"""Sending a campaign's cards to the employees by email, on the campaign's sending date.

The dispatcher (`queue_sending`, run by the periodic job `campaigns.send_due` or the command
`flask campaigns send`) marks the cards still to send as queued, and once its unit of work has
committed queues one job per card (`campaigns.send_card`). The worker runs those at the rate
CAMPAIGN_MAIL_RATE; each job sends its email itself and records the outcome on the
beneficiary: sent, or failed with the server's answer, retried up to CAMPAIGN_MAIL_ATTEMPTS
times with a growing wait. A card queued but not sent (a worker lost) is queued again after
CAMPAIGN_MAIL_REQUEUE_MINUTES; a card sent is never sent twice by the dispatcher.

A wrong address is corrected with `resend`: the card gets a new code (the old one, which may have
reached a stranger, stops working), keeps its balance and history, and is sent again.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError
from flask import current_app

from marketplace import audit, uow
from marketplace.accounts.models import User
from marketplace.campaigns.importing import valid_email
from marketplace.campaigns.labels import EVENT_LABELS, UNSPENT_LABELS
from marketplace.campaigns.models import Beneficiary, Campaign, CampaignEvent, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.db import db, lock_rows, utcnow
from marketplace.giftcards import card_notes, codes, pdf, qr
from marketplace.giftcards.models import GiftCard
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import local_today
from marketplace.notifications.services import Attachment, render_email, send_now

CHUNK = 1000  # ids per UPDATE when marking cards as queued


@dataclass(frozen=True)
class Progress:
    """Where the sending of a campaign's cards stands."""

    total: int  # cards issued
    sent: int
    failed: int  # gave up after the last attempt: the address needs correcting
    waiting: int  # issued, neither sent nor given up on

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.sent * 100 // self.total


def max_attempts() -> int:
    return int(current_app.config["CAMPAIGN_MAIL_ATTEMPTS"])


def progress(campaign: Campaign) -> Progress:
    attempts = max_attempts()
    row = db.session.execute(
        sa.select(
            sa.func.count(Beneficiary.id),
            sa.func.count(Beneficiary.sent_at),
            sa.func.count(Beneficiary.id).filter(Beneficiary.sent_at.is_(None),
                                                 Beneficiary.send_failures >= attempts),
        ).where(Beneficiary.campaign_id == campaign.id, Beneficiary.card_id.is_not(None))
    ).one()
    total, sent, failed = (int(value) for value in row)
    return Progress(total=total, sent=sent, failed=failed, waiting=total - sent - failed)


def failed(campaign: Campaign) -> sa.Select:
    """The beneficiaries whose email could not be sent (to correct), in the file's order."""
    return (sa.select(Beneficiary).where(
        Beneficiary.campaign_id == campaign.id, Beneficiary.sent_at.is_(None),
        Beneficiary.send_failures >= max_attempts()).order_by(Beneficiary.line))


def queue_sending(campaign: Campaign, *, now: datetime | None = None, by=None) -> int:
    """Queue the emails of the campaign's cards not sent yet (not those given up on, nor those
    queued recently). The jobs leave after the commit. Returns how many were queued."""
    now = now or utcnow()
    lock_rows(Campaign, [campaign.id])
    if campaign.status != CampaignStatus.ISSUED:
        raise CampaignError(_l("The cards of this campaign are not issued yet."), status_code=409)
    stale = now - timedelta(minutes=current_app.config["CAMPAIGN_MAIL_REQUEUE_MINUTES"])
    ids = db.session.scalars(
        sa.select(Beneficiary.id).where(
            Beneficiary.campaign_id == campaign.id, Beneficiary.card_id.is_not(None),
            Beneficiary.sent_at.is_(None), Beneficiary.send_failures < max_attempts(),
            sa.or_(Beneficiary.send_queued_at.is_(None), Beneficiary.send_queued_at < stale))
        .order_by(Beneficiary.line, Beneficiary.id)).all()
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            sa.update(Beneficiary).where(Beneficiary.id.in_(ids[start:start + CHUNK]))
            .values(send_queued_at=now).execution_options(synchronize_session=False))
    if ids:
        audit.record("campaign.sending_queued", campaign, by=by, organization=campaign.organization,
                     data={"name": campaign.name, "count": len(ids)})
        uow.after_commit(_enqueue, ids)
    return len(ids)


def _enqueue(ids: list[int]) -> None:
    from marketplace.campaigns.tasks import send_card

    for beneficiary_id in ids:
        send_card.delay(beneficiary_id)


def campaigns_due(today: date) -> list[Campaign]:
    """Issued campaigns whose sending date has come and that still have cards to send."""
    pending = (sa.select(Beneficiary.id).where(
        Beneficiary.campaign_id == Campaign.id, Beneficiary.card_id.is_not(None),
        Beneficiary.sent_at.is_(None), Beneficiary.send_failures < max_attempts()).exists())
    return list(db.session.scalars(sa.select(Campaign).where(
        Campaign.status == CampaignStatus.ISSUED, Campaign.send_on <= today, pending)
        .order_by(Campaign.send_on, Campaign.id)))


def send_due(*, today: date | None = None, now: datetime | None = None) -> int:
    """The periodic job: queue the cards of every campaign whose sending date has come."""
    today = today or local_today()
    return sum(queue_sending(campaign, now=now) for campaign in campaigns_due(today))


# --- one card ----------------------------------------------------------------------------------

def send_one(beneficiary_id: int) -> str:
    """Send one employee's card now: "sent", "already" (sent before), "skipped" (no card, or
    given up on) or "failed" (the failure is recorded; the caller may try again later)."""
    rows = lock_rows(Beneficiary, [beneficiary_id])
    if not rows:
        return "skipped"
    (beneficiary,) = rows
    if beneficiary.sent_at is not None:
        return "already"
    if beneficiary.card_id is None or beneficiary.send_failures >= max_attempts():
        return "skipped"
    message = card_email(beneficiary)
    try:
        send_now(message)
    except (smtplib.SMTPException, OSError) as exc:
        beneficiary.send_failures += 1
        beneficiary.send_error = _describe(exc)
        return "failed"
    beneficiary.sent_at = utcnow()
    beneficiary.send_error = None
    return "sent"


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                   for code, text in exc.recipients.values()]
        return ("; ".join(answers) or str(exc))[:300]
    return (f"{type(exc).__name__}: {exc}")[:300]


def employee_locale(email: str) -> str:
    """The language of the employee's account on the platform, if they have one; else the
    platform's default (French)."""
    locale = db.session.scalar(sa.select(User.locale).where(User.email == email))
    return locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def card_email(beneficiary: Beneficiary):
    """The email that brings an employee their card: amount, expiry, the event, where it may be
    spent, what becomes of what is left, the QR code inline and the printable card attached."""
    card: GiftCard = beneficiary.card
    campaign: Campaign = beneficiary.campaign
    locale = employee_locale(beneficiary.email)
    lines = card_lines(campaign)
    message = render_email(
        "campaign_card", to=beneficiary.email, locale=locale, card=card, campaign=campaign,
        beneficiary=beneficiary, works_council=campaign.organization.name,
        event=None if campaign.event == CampaignEvent.NONE else EVENT_LABELS[campaign.event],
        allowed=allowed_text(card, locale), unspent=UNSPENT_LABELS[campaign.unspent_policy],
        association=campaign.unspent_association.name if campaign.unspent_association else None,
        card_url=qr.card_url(card), qr_cid="campaign-card-qr")
    message.attachments.append(Attachment.from_bytes(
        "gift-card-qr.png", qr.card_png(card, box_size=6), "image/png",
        inline_cid="campaign-card-qr"))
    from flask_babel import force_locale

    with force_locale(locale):
        printable = pdf.card_pdf(card, extra=[str(line) for line in lines])
    message.attachments.append(Attachment.from_bytes(
        f"carte-cadeau-{card.code[-4:]}.pdf", printable, "application/pdf"))
    return message


def card_lines(campaign: Campaign) -> list:
    """What every card of the campaign says besides its amount: who offers it, for what event,
    and what becomes of the value left at expiry."""
    lines = [_l("Offered by %(name)s", name=campaign.organization.name)]
    if campaign.event != CampaignEvent.NONE:
        lines.append(_l("For: %(event)s", event=EVENT_LABELS[campaign.event]))
    policy = UNSPENT_LABELS[campaign.unspent_policy]
    if campaign.unspent_association is not None:
        lines.append(_l("Left unspent at expiry: %(policy)s (%(name)s)", policy=policy,
                        name=campaign.unspent_association.name))
    else:
        lines.append(_l("Left unspent at expiry: %(policy)s", policy=policy))
    return lines


def _notes_of_card(card: GiftCard) -> list:
    """The campaign's lines for the card's page and its PDF (giftcards.card_notes)."""
    campaign = db.session.scalar(sa.select(Campaign).join(
        Beneficiary, Beneficiary.campaign_id == Campaign.id).where(Beneficiary.card_id == card.id))
    return card_lines(campaign) if campaign is not None else []


card_notes.register(_notes_of_card)


def allowed_text(card: GiftCard, locale: str):
    """Where the card may be spent, in a sentence (None: anywhere on the marketplace)."""
    profile = card.restriction_profile
    if profile is None or (not profile.categories and not profile.sellers):
        return None
    parts = []
    if profile.categories:
        parts.append(_l("in these categories: %(names)s",
                        names=", ".join(category.name(locale) for category in profile.categories)))
    if profile.sellers:
        parts.append(_l("at these sellers: %(names)s",
                        names=", ".join(seller.name for seller in profile.sellers)))
    return _Joined(parts)


class _Joined:
    """Parts of a sentence joined by " ; " in the language they are shown in (lazy parts)."""

    def __init__(self, parts):
        self.parts = parts

    def __str__(self) -> str:
        from flask_babel import get_locale

        separator = "\u00a0; " if str(get_locale()).startswith("fr") else "; "
        return separator.join(str(part) for part in self.parts)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


# --- a wrong address ---------------------------------------------------------------------------

def resend(beneficiary: Beneficiary, email: str, *, by) -> bool:
    """Send the card again, to `email` (corrected, or the same). A new address gives the card a
    new code: the old one, which may have reached someone else, stops working; the balance and
    what was already spent stay. Returns True when the code changed."""
    (beneficiary,) = lock_rows(Beneficiary, [beneficiary.id])
    if beneficiary.card_id is None:
        raise CampaignError(_l("This employee has no card yet."), status_code=409)
    try:
        address = valid_email((email or "").strip())
    except EmailNotValidError:
        raise CampaignError(_l("Give a valid email address."), field="email",
                            status_code=400) from None
    duplicate = db.session.scalar(sa.select(Beneficiary.id).where(
        Beneficiary.campaign_id == beneficiary.campaign_id, Beneficiary.email == address,
        Beneficiary.id != beneficiary.id))
    if duplicate:
        raise CampaignError(_l("Another employee of this campaign has this address."),
                            field="email", status_code=409)
    (card,) = lock_rows(GiftCard, [beneficiary.card_id])
    changed = address != beneficiary.email
    before = beneficiary.email
    if changed:
        beneficiary.email = address
        card.holder_email = address
        card.code = _new_code()
    beneficiary.sent_at = None
    beneficiary.send_failures = 0
    beneficiary.send_error = None
    beneficiary.send_queued_at = utcnow()
    db.session.flush()
    audit.record("campaign.card_resent", beneficiary.campaign, by=by,
                 organization=beneficiary.campaign.organization,
                 data={"line": beneficiary.line, "new_code": changed, "last4": card.code[-4:],
                       **({"from": before, "to": address} if changed else {"to": address})})
    uow.after_commit(_enqueue, [beneficiary.id])
    return changed


def _new_code() -> str:
    for _attempt in range(10):
        code = codes.new_code()
        if db.session.scalar(sa.select(GiftCard.id).where(GiftCard.code == code)) is None:
            return code
    raise RuntimeError("no free gift card code after several draws")  # pragma: no cover
