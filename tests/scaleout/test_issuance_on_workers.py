"""A paid campaign's issuance job on real Celery workers (Redis): the job is known to the worker
(`campaigns.issue_cards`), and given twice to two workers at once it issues each card once.

PostgreSQL only (two processes writing at once: real row locks). Skipped when Redis does not
answer, unless REQUIRE_REDIS is set."""
from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from celery import Celery

from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus
from marketplace.db import db
from marketplace.giftcards.models import CardTransaction, GiftCard
from tests.campaigns.helpers import paid_campaign, works_council
from tests.redis_db import exclusive_redis_db
from tests.workers import running_worker, wait_for

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("TEST_ISSUANCE_REDIS_URL", "redis://127.0.0.1:6379/14")
CARDS = 1200


def _status(campaign_id: int) -> CampaignStatus:
    db.session.rollback()
    return db.session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))


def test_two_workers_given_the_job_twice_issue_each_card_once(app, database_url, tmp_path):
    officer, cse = works_council()
    campaign_id = paid_campaign(officer, cse, CARDS).id
    db.session.commit()
    db.session.remove()  # the job queued in-process for after a unit's commit is dropped

    with exclusive_redis_db(REDIS_URL, "ess-marche-issuance-test"), \
            running_worker(database_url, tmp_path / "one", broker=REDIS_URL, name="one") as (
                first, first_log), \
            running_worker(database_url, tmp_path / "two", broker=REDIS_URL, name="two") as (
                second, second_log):
        client = Celery(broker=REDIS_URL)
        for _ in range(2):
            client.send_task("campaigns.issue_cards", args=[campaign_id])

        def both_done() -> bool:
            logs = first_log.read_text(errors="replace") + second_log.read_text(errors="replace")
            return len(re.findall(r"Task campaigns\.issue_cards\[[^\]]+\] succeeded", logs)) == 2

        wait_for(lambda: _status(campaign_id) == CampaignStatus.ISSUED, first, first_log)
        wait_for(both_done, second, second_log)

    db.session.rollback()
    logs = first_log.read_text() + second_log.read_text()
    # (Other jobs may follow on the workers: the invoice's mail once the cards are issued.)
    assert len(re.findall(r"Task campaigns\.issue_cards\[[^\]]+\] succeeded", logs)) == 2, logs
    cards = db.session.execute(
        sa.select(sa.func.count(Beneficiary.card_id), sa.func.count(sa.distinct(Beneficiary.card_id)))
        .where(Beneficiary.campaign_id == campaign_id)).one()
    assert tuple(cards) == (CARDS, CARDS)
    assert db.session.scalar(sa.select(sa.func.count(GiftCard.id))) == CARDS
    assert db.session.scalar(sa.select(sa.func.count(CardTransaction.id))) == CARDS
