"""Reminders to the employees about their campaign card, by the daily job `campaigns.remind`.

- To those who have not opened their card (its page, from the email or the QR code): 3 days
  after it was sent, 10 days after, then every month (30, 60, 90... days after).
- To everyone with a balance left: 30 days and 7 days before the card expires.

Each kind of reminder is sent once to an employee (a row in campaign_reminder, unique): when the
job has not run for a while, only the latest reminder due of each family goes, not all those
missed. None after the employee's one-click opt-out (a signed link in every reminder, which
works without logging in), nor for a card blocked or empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace import audit
from marketplace.campaigns.labels import EVENT_LABELS
from marketplace.campaigns.models import (
    Beneficiary,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    Reminder,
)
from marketplace.campaigns.sending import allowed_text, employee_locale
from marketplace.db import db, utcnow
from marketplace.giftcards import qr
from marketplace.giftcards.models import CardStatus, GiftCard
from marketplace.notifications.services import queue, render_email
from marketplace.urls import external_url

PARIS = ZoneInfo("Europe/Paris")
UNOPENED_DAYS = (3, 10)
MONTH_DAYS = 30
EXPIRY_DAYS = (30, 7)


@dataclass(frozen=True)
class Due:
    """One email to send: its kind, and every kind it stands for (an employee gets one email a
    day at most: the one about the expiry, which also reminds them to open their card)."""

    beneficiary_id: int
    kind: str
    covers: tuple[str, ...]


def _day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def unopened_kind(days_since_sent: int) -> str | None:
    """The latest "not opened" reminder due that many days after sending, or None."""
    if days_since_sent >= MONTH_DAYS:
        return f"unopened-month-{days_since_sent // MONTH_DAYS}"
    for days in reversed(UNOPENED_DAYS):
        if days_since_sent >= days:
            return f"unopened-{days}"
    return None


def expiry_kind(days_left: int) -> str | None:
    """The latest "before expiry" reminder due with that many days left, or None."""
    if days_left <= 0:
        return None
    for days in sorted(EXPIRY_DAYS):
        if days_left <= days:
            return f"expiry-{days}"
    return None


def due(today: date) -> list[Due]:
    """Every reminder due today, not sent before, for employees who did not opt out."""
    rows = db.session.execute(
        sa.select(Beneficiary.id, Beneficiary.sent_at, GiftCard.opened_at, GiftCard.expires_at,
                  GiftCard.balance_cents)
        .join(GiftCard, GiftCard.id == Beneficiary.card_id)
        .join(Campaign, Campaign.id == Beneficiary.campaign_id)
        .where(Campaign.status == CampaignStatus.ISSUED, Campaign.closed_at.is_(None),
               Beneficiary.sent_at.is_not(None),
               Beneficiary.reminders_off_at.is_(None), GiftCard.status == CardStatus.ACTIVE,
               GiftCard.balance_cents > 0)
        .order_by(Beneficiary.id)).all()
    sent = {(row.beneficiary_id, row.kind) for row in db.session.execute(
        sa.select(Reminder.beneficiary_id, Reminder.kind)
        .join(Beneficiary, Beneficiary.id == Reminder.beneficiary_id)
        .join(Campaign, Campaign.id == Beneficiary.campaign_id)
        .where(Campaign.status == CampaignStatus.ISSUED, Campaign.closed_at.is_(None)))}
    found = []
    for row in rows:
        kinds = [expiry_kind((_day(row.expires_at) - today).days)]
        if row.opened_at is None:
            kinds.append(unopened_kind((today - _day(row.sent_at)).days))
        kinds = tuple(kind for kind in kinds if kind and (row.id, kind) not in sent)
        if kinds:
            found.append(Due(row.id, kinds[0], kinds))
    return found


def send_due(*, today: date | None = None) -> int:
    """The daily job: each reminder due queued (sent after the commit) and recorded."""
    today = today or datetime.now(PARIS).date()
    reminders = due(today)
    for reminder in reminders:
        beneficiary = db.session.get(Beneficiary, reminder.beneficiary_id)
        for kind in reminder.covers:
            db.session.add(Reminder(beneficiary_id=beneficiary.id, kind=kind))
        queue(reminder_email(beneficiary, reminder.kind, today=today))
    db.session.flush()
    return len(reminders)


# --- the email ---------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="campaign-reminders-off")


def opt_out_token(beneficiary: Beneficiary) -> str:
    return _serializer().dumps(beneficiary.id)


def beneficiary_for_token(token: str) -> Beneficiary | None:
    try:
        beneficiary_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(Beneficiary, beneficiary_id) if isinstance(beneficiary_id, int) else None


def opt_out(beneficiary: Beneficiary) -> bool:
    """No more reminders for this employee; False if they had already opted out."""
    if beneficiary.reminders_off_at is not None:
        return False
    beneficiary.reminders_off_at = utcnow()
    db.session.flush()
    audit.record("campaign.reminders_off", beneficiary.campaign,
                 organization=beneficiary.campaign.organization,
                 data={"name": beneficiary.campaign.name, "line": beneficiary.line})
    return True


def reminder_email(beneficiary: Beneficiary, kind: str, *, today: date):
    card: GiftCard = beneficiary.card
    campaign: Campaign = beneficiary.campaign
    locale = employee_locale(beneficiary.email)
    stop_url = external_url("campaigns.reminders_off", token=opt_out_token(beneficiary))
    expires_on = card.expires_at.astimezone(PARIS).date()
    message = render_email(
        "campaign_reminder", to=beneficiary.email, locale=locale, card=card, campaign=campaign,
        beneficiary=beneficiary, works_council=campaign.organization.name,
        event=None if campaign.event == CampaignEvent.NONE else EVENT_LABELS[campaign.event],
        unopened=kind.startswith("unopened"), days_left=(expires_on - today).days,
        allowed=allowed_text(card, locale), card_url=qr.card_url(card), stop_url=stop_url)
    message.headers = {"List-Unsubscribe": f"<{stop_url}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return message
