"""A campaign of 200 cards sent through a real Celery worker on Redis (the job that finds the
campaigns due, then one job per card, rate-limited), and the same campaign sent in-process
without a broker: 200 emails, one per employee, each with their own card.

The worker part is skipped when Redis does not answer, unless REQUIRE_REDIS is set (CI)."""
from __future__ import annotations

import os
from email import message_from_bytes, policy

import sqlalchemy as sa
from celery import Celery

from marketplace import uow
from marketplace.campaigns import sending
from marketplace.campaigns.models import Beneficiary
from marketplace.db import db
from marketplace.i18n import local_today
from tests.campaigns.helpers import issued_campaign
from tests.redis_db import exclusive_redis_db
from tests.workers import running_worker, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CARDS = 200


def _codes_by_email(campaign) -> dict[str, str]:
    return {b.email: b.card.display_code for b in db.session.scalars(
        sa.select(Beneficiary).where(Beneficiary.campaign_id == campaign.id))}


def _sent_count(campaign) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Beneficiary.sent_at)).where(
        Beneficiary.campaign_id == campaign.id))


def test_a_real_worker_sends_a_campaign_of_200_cards(app, database_url, tmp_path, make_campaign):
    campaign = issued_campaign(make_campaign(send_on=local_today()), count=CARDS)
    expected = _codes_by_email(campaign)
    outbox = tmp_path / "instance" / "outbox"
    with exclusive_redis_db(REDIS_URL, "ess-marche-campaign-sending-test"), running_worker(
            database_url, tmp_path / "instance", broker=REDIS_URL,
            env={"CAMPAIGN_MAIL_RATE": "100/s"}) as (process, log):
        Celery(broker=REDIS_URL).send_task("campaigns.send_due")
        mails = wait_for(lambda: len(list(outbox.glob("*.eml"))) >= CARDS and sorted(
            outbox.glob("*.eml")), process, log, seconds=180)
        wait_for(lambda: _sent_count(campaign) == CARDS, process, log)

    assert len(mails) == CARDS
    found = {}
    for path in mails:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        found[message["To"]] = message.get_body(preferencelist=("plain",)).get_content()
    assert set(found) == set(expected)
    assert all(expected[email] in text for email, text in found.items())
    text = log.read_text()
    assert "Task campaigns.send_due[" in text and text.count("Task campaigns.send_card[") >= 2 * CARDS
    progress = sending.progress(campaign)
    assert (progress.sent, progress.waiting, progress.failed) == (CARDS, 0, 0)


def test_without_a_broker_the_same_campaign_is_sent_in_process(app, make_campaign, outbox):
    campaign = issued_campaign(make_campaign(send_on=local_today()), count=CARDS)
    expected = _codes_by_email(campaign)
    with uow.unit():
        assert sending.send_due() == CARDS
    assert len(outbox) == CARDS
    assert {message.to[0] for message in outbox} == set(expected)
    assert all(expected[message.to[0]] in message.body for message in outbox)
    assert _sent_count(campaign) == CARDS
