"""A real Celery worker, started the way `make worker` starts it, on the local Redis and the
test database, runs real jobs: a gift due today is delivered (a job that writes to the
database), and its mail is sent by the mail job that the first one queued through Redis.

Skipped when Redis does not answer, unless REQUIRE_REDIS is set (CI sets it)."""
from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy

import pytest
from celery import Celery

from marketplace.db import db, utcnow
from marketplace.giftcards.models import GiftCard
from tests.giftcards.helpers import make_card
from tests.redis_db import exclusive_redis_db
from tests.workers import BASE, ROOT, running_worker, wait_for, worker_app

# A database number of its own: the test empties it.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def broker():
    with exclusive_redis_db(REDIS_URL, "ess-marche-worker-test") as client:
        yield client


def test_a_real_worker_delivers_a_gift_and_sends_its_mail(app, broker, database_url, tmp_path):
    card = make_card(3000, buyer_name="Camille", recipient_name="Léa",
                     recipient_email="lea@example.org", deliver_on=utcnow().date(), locale="en")
    assert card.delivered_at is None
    outbox = tmp_path / "instance" / "outbox"

    with running_worker(database_url, tmp_path / "instance", broker=REDIS_URL) as (process, log):
        Celery(broker=REDIS_URL).send_task("giftcards.deliver_due")
        (mail,) = wait_for(lambda: sorted(outbox.glob("*.eml")), process, log)
        assert process.poll() is None

    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"] == "lea@example.org"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert card.display_code in text and f"{BASE}/cards/{card.code}" in text
    db.session.expire_all()
    assert db.session.get(GiftCard, card.id).delivered_at is not None
    assert "giftcards.deliver_due" in log.read_text() and "notifications.send_email" in log.read_text()


def test_the_worker_without_redis_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(MARKETPLACE_CONFIG="development", INSTANCE_PATH=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "celery", "-A", worker_app(), "worker", "--pool", "solo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "The worker needs Redis: set REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr
