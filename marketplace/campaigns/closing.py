"""A campaign at the end of its cards' validity: what is left on each card follows the campaign's
unspent-value policy, and the works council gets a closing report.

- Given to an association: the cards carry it (GiftCard.expiry_association_id, set at issuance),
  and the gift cards' expiry job gives what is left to it, with its ledger entry.
- Back to the works council: the expiry job keeps the value and says so (giftcards.signals
  .card_expired); the receiver below records it as the council's credit for its next campaign
  (CampaignCredit, one row per card).
- Kept by the platform: kept, nothing more.

Once every card of an issued campaign is expired with nothing left on it, the daily job
`campaigns.close` marks the campaign closed and emails its managers the report: issued, spent,
where (per kind of seller), given away, credited or kept.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.campaigns import dashboard
from marketplace.campaigns.labels import UNSPENT_LABELS
from marketplace.campaigns.models import (
    Beneficiary,
    Campaign,
    CampaignCredit,
    CampaignStatus,
    UnspentPolicy,
)
from marketplace.db import db, utcnow
from marketplace.giftcards.models import CardTransaction, GiftCard, TransactionKind
from marketplace.giftcards.signals import card_expired
from marketplace.notifications.services import queue_email
from marketplace.organizations.labels import ESS_STATUS_LABELS
from marketplace.organizations.models import Membership, Role
from marketplace.urls import external_url


@card_expired.connect
def _credit_what_was_kept(card: GiftCard, *, amount_cents: int, association_id, **_extra):
    """A campaign card expired with value left, kept: the works council's credit if its
    campaign said so."""
    if association_id is not None or amount_cents <= 0:
        return
    campaign = db.session.scalar(
        sa.select(Campaign).join(Beneficiary, Beneficiary.campaign_id == Campaign.id)
        .where(Beneficiary.card_id == card.id))
    if campaign is None or campaign.unspent_policy != UnspentPolicy.CREDIT:
        return
    db.session.add(CampaignCredit(organization_id=campaign.organization_id,
                                  campaign_id=campaign.id, card_id=card.id,
                                  amount_cents=amount_cents))
    db.session.flush()


def credit_of(organization_id: int) -> int:
    """What the works council has as credit for its next campaigns, in cents."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        CampaignCredit.amount_cents), 0)).where(CampaignCredit.organization_id == organization_id)))


def _finished(now: datetime) -> sa.Select:
    """Issued campaigns not closed whose cards are all expired and empty."""
    cards = (sa.select(GiftCard.id).join(Beneficiary, Beneficiary.card_id == GiftCard.id)
             .where(Beneficiary.campaign_id == Campaign.id))
    still_open = cards.where(sa.or_(GiftCard.expires_at > now, GiftCard.balance_cents > 0))
    return (sa.select(Campaign).where(
        Campaign.status == CampaignStatus.ISSUED, Campaign.closed_at.is_(None),
        cards.exists(), ~still_open.exists()).order_by(Campaign.id))


def close_finished(*, now: datetime | None = None) -> int:
    """The daily job: close the campaigns whose cards are all over, each report queued."""
    now = now or utcnow()
    closed = 0
    for campaign in db.session.scalars(_finished(now)).all():
        campaign.closed_at = now
        report = closing_report(campaign)
        audit.record("campaign.closed", campaign, organization=campaign.organization,
                     data={"name": campaign.name, "spent_cents": report["figures"].spent_cents,
                           "left_cents": report["expired_cents"]})
        _send_report(campaign, report)
        closed += 1
    db.session.flush()
    return closed


def closing_report(campaign: Campaign) -> dict:
    """The figures of the report: the follow-up's, plus what was left at expiry and where it
    went."""
    card_ids = (sa.select(Beneficiary.card_id).where(Beneficiary.campaign_id == campaign.id,
                                                     Beneficiary.card_id.is_not(None))
                .scalar_subquery())
    left = dict(db.session.execute(
        sa.select(CardTransaction.kind, sa.func.coalesce(sa.func.sum(CardTransaction.amount_cents), 0))
        .where(CardTransaction.card_id.in_(card_ids), CardTransaction.reason == "expiry")
        .group_by(CardTransaction.kind)).all())
    credited = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        CampaignCredit.amount_cents), 0)).where(CampaignCredit.campaign_id == campaign.id)))
    return {
        "figures": dashboard.figures(campaign),
        "kinds": dashboard.spending_by_kind(campaign),
        "expired_cents": -int(left.get(TransactionKind.EXPIRE, 0))
        - int(left.get(TransactionKind.DONATE, 0)),
        "donated_at_expiry_cents": -int(left.get(TransactionKind.DONATE, 0)),
        "credited_cents": credited,
        "policy": UNSPENT_LABELS[campaign.unspent_policy],
    }


def _send_report(campaign: Campaign, report: dict) -> None:
    managers = db.session.scalars(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == campaign.organization_id,
               Membership.role.in_([Role.OWNER, Role.MANAGER]))).all()
    url = external_url("campaigns.follow", org_id=campaign.organization_id,
                       campaign_id=campaign.id)
    for user in managers:
        queue_email("campaign_closed", to=user.email, locale=user.locale, campaign=campaign,
                    report=report, kind_labels=ESS_STATUS_LABELS, url=url,
                    association=campaign.unspent_association.name
                    if campaign.unspent_association else None)
