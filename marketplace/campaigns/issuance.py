"""A paid campaign's cards: one named card per beneficiary, issued in batches by one job.

Each batch is written under the campaign's row lock, and is durable on its own (a named
exception of docs/architecture.md): the beneficiaries' `card_id` are set in the same
transaction as their cards, so the page reads the progress from the database (beneficiaries
with a card, of all), and a run that fails half-way is finished by the next one. Only
beneficiaries without a card are taken: a second run, or two at once, issue each card once
(the second waits for the lock, then reads what the first committed; UNIQUE(card_id) and the
`card_id IS NULL` condition of the UPDATE are the last guards). When every beneficiary has a
card the campaign is marked issued (services.mark_issued).

The job starts when the campaign is paid (signals.campaign_paid, queued after the commit);
`flask campaigns issue <id>` runs it by hand, with a progress bar, and the periodic job
`campaigns.issue_paid` (`flask campaigns issue-paid` from cron) finishes what a failed run left.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace import uow
from marketplace.campaigns import services
from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus, UnspentPolicy
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.signals import campaign_paid
from marketplace.db import db, lock_rows
from marketplace.giftcards import bulk
from marketplace.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
BATCH = 500

_BENEFICIARY = Beneficiary.__table__


@dataclass(frozen=True)
class Progress:
    """How far a campaign's issuance is: beneficiaries with their card, of all."""

    issued: int
    total: int

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.issued * 100 // self.total


def progress_of(campaign_id: int) -> Progress:
    """Read in the database (one query): what other runs committed counts."""
    total, issued = db.session.execute(
        sa.select(sa.func.count(_BENEFICIARY.c.id), sa.func.count(_BENEFICIARY.c.card_id))
        .where(_BENEFICIARY.c.campaign_id == campaign_id)).one()
    return Progress(issued=int(issued), total=int(total))


def valid_from(campaign: Campaign) -> datetime:
    """The cards' validity starts on the sending day, at midnight in Paris."""
    return datetime.combine(campaign.send_on, time(0), tzinfo=PARIS)


def issue_cards(campaign: Campaign, *, by=None, batch: int = BATCH,
                progress: Callable[[Progress], None] | None = None) -> int:
    """Issue the cards of a paid campaign to the beneficiaries who have none yet, `batch` at a
    time, each batch committed; then mark the campaign issued. Returns how many cards this run
    issued (0 when the campaign was already issued). CampaignError (409) when the campaign is
    not paid. `progress(Progress)` is called after each batch.

    Each batch commits (uow.durable_step) what the unit holds: call it in a unit of its own,
    as the job and `flask campaigns issue` do, never inside a request's unit."""
    if not 0 < batch <= bulk.MAX_BATCH:
        raise ValueError(f"batch is between 1 and {bulk.MAX_BATCH}")
    campaign_id = campaign.id
    issued = 0
    while True:
        lock_rows(Campaign, [campaign_id])  # the status is read again under the lock
        if campaign.status == CampaignStatus.ISSUED:
            return issued
        if campaign.status != CampaignStatus.PAID:
            raise CampaignError(_l("This campaign is not paid: its cards cannot be issued yet."),
                                status_code=409)
        pending = db.session.execute(
            sa.select(_BENEFICIARY.c.id, _BENEFICIARY.c.first_name, _BENEFICIARY.c.last_name,
                      _BENEFICIARY.c.email, _BENEFICIARY.c.amount_cents)
            .where(_BENEFICIARY.c.campaign_id == campaign_id, _BENEFICIARY.c.card_id.is_(None))
            .order_by(_BENEFICIARY.c.id).limit(batch)).all()
        if not pending:
            services.mark_issued(campaign, by=by)
            return issued
        _issue_batch(campaign, pending, by=by)
        issued += len(pending)
        uow.durable_step()  # this batch stands, and the campaign's lock is released
        if progress is not None:
            progress(progress_of(campaign_id))


def _issue_batch(campaign: Campaign, pending, *, by) -> None:
    organization = campaign.organization
    card_ids = bulk.issue_named(
        [bulk.NamedCard(holder_name=f"{row.first_name} {row.last_name}".strip(),
                        holder_email=row.email, amount_cents=row.amount_cents)
         for row in pending],
        valid_from=valid_from(campaign), months=campaign.validity_months,
        restriction_profile_id=campaign.restriction_profile_id,
        # The value left at expiry goes to the association the works council chose, if so
        # (campaigns.closing for the other policies).
        expiry_association_id=campaign.unspent_association_id
        if campaign.unspent_policy == UnspentPolicy.ASSOCIATION else None,
        buyer_name=organization.name, buyer_email=organization.contact_email or "",
        by=by, subject=campaign, organization=organization,
        audit_data={"campaign": campaign.name})
    # "No card yet" written as COALESCE(card_id, 0) = 0, which no index answers: the row is
    # found by its primary key. As `card_id IS NULL`, a generic plan made on statistics of a
    # table whose cards were all issued read UNIQUE(card_id)'s index for every row, through
    # every beneficiary still without a card (10,000 cards: 8.9 s instead of 0.7 s).
    result = db.session.execute(
        sa.update(_BENEFICIARY)
        .where(_BENEFICIARY.c.id == sa.bindparam("beneficiary_id"),
               sa.func.coalesce(_BENEFICIARY.c.card_id, 0) == 0)
        .values(card_id=sa.bindparam("new_card_id")),
        [{"beneficiary_id": row.id, "new_card_id": card_id}
         for row, card_id in zip(pending, card_ids, strict=True)])
    if result.rowcount != len(pending):  # another run got there first: this batch is undone
        raise CampaignError(_l("The cards of this campaign are being issued by another run: "
                               "try again in a moment."), status_code=409)


def issue_campaign(campaign_id: int, *, by=None) -> int:
    """The job's body: issue the cards of the campaign if it is (still) paid; 0 otherwise."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.PAID:
        log.info("campaign %s: nothing to issue (%s)", campaign_id,
                 "unknown" if campaign is None else campaign.status.value)
        return 0
    return issue_cards(campaign, by=by)


def issue_paid(*, by=None) -> int:
    """Finish every paid campaign whose cards are not all issued (a job that failed, a worker
    stopped half-way): the periodic job `campaigns.issue_paid`, and `flask campaigns
    issue-paid` from cron without a worker. Returns how many cards it issued."""
    ids = db.session.scalars(sa.select(Campaign.id).where(Campaign.status == CampaignStatus.PAID)
                             .order_by(Campaign.paid_at, Campaign.id)).all()
    return sum(issue_campaign(campaign_id, by=by) for campaign_id in ids)


@campaign_paid.connect
def issue_when_paid(campaign: Campaign, **_) -> None:
    """A paid campaign's cards are issued by the job, once the payment is committed."""
    uow.after_commit(_queue_issuance, campaign.id)


def _queue_issuance(campaign_id: int) -> None:
    from marketplace.campaigns.tasks import issue_cards as job

    job.delay(campaign_id)
