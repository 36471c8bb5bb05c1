"""Every kind of job on real Celery processes, on Redis and on RabbitMQ: a worker with its beat
scheduler runs the periodic jobs by itself (an unpaid order's hold expires, a gift due today is
delivered and its mail sent through the broker, sellers are paid out), and a payout run whose
worker is killed half-way is run again by another worker and pays each seller once.

Skipped when a broker does not answer, unless REQUIRE_REDIS / REQUIRE_RABBITMQ is set (CI sets
both)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import tempfile
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from celery import Celery
from kombu import Connection

from marketplace.db import db, utcnow
from marketplace.giftcards.models import GiftCard
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout, PayoutStatus
from marketplace.orders.models import Hold, HoldState, Order, OrderStatus
from marketplace.organizations.models import Organization
from tests.factories import make_organization, make_product
from tests.giftcards.helpers import make_card
from tests.payments.helpers import end_hold, make_seller, place_order
from tests.redis_db import exclusive_redis_db
from tests.workers import running_worker, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
# Only the jobs under test, every second; the others left out.
FAST = {"expire-holds": 1, "deliver-gift-cards": 1, "run-payouts": 1, "generate-pickup-slots": 0,
        "reconcile-payments": 0, "expire-gift-cards": 0}
SELLERS = 80


@contextlib.contextmanager
def exclusive_rabbitmq(url: str):
    """RabbitMQ's default queue, emptied before and after, one test run at a time."""
    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means no broker
        if os.environ.get("REQUIRE_RABBITMQ"):
            pytest.fail(f"REQUIRE_RABBITMQ is set but RabbitMQ does not answer at {url}: {exc}")
        pytest.skip(f"no RabbitMQ at {url} ({exc})")
    lock_path = Path(tempfile.gettempdir()) / "ess-marche-rabbitmq-test.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _purge(url)
        try:
            yield
        finally:
            _purge(url)


def _purge(url: str) -> None:
    """Drop Celery's queue (the worker declares it again as it wants it)."""
    with Connection(url) as connection, connection.channel() as channel:
        channel.queue_delete("celery")


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request):
    if request.param == "redis":
        with exclusive_redis_db(REDIS_URL, "ess-marche-jobs-test"):
            yield REDIS_URL
    else:
        with exclusive_rabbitmq(RABBITMQ_URL):
            yield RABBITMQ_URL


def _owed_sellers(count: int) -> list[int]:
    """`count` sellers with a connected (demo) account, each owed 10.00 €."""
    ids = []
    for n in range(count):
        organization = make_organization(name=f"Vendeur {n}")
        organization.stripe_account_id, organization.payouts_enabled = f"demo_acct_{n}", True
        ids.append(organization.id)
    db.session.execute(sa.insert(LedgerEntry.__table__), [
        {"organization_id": organization_id, "kind": EntryKind.SALE, "amount_cents": 1000,
         "gross_cents": 1000, "commission_cents": 0, "source": f"test-sale:{organization_id}",
         "reference": "test", "created_at": utcnow()} for organization_id in ids])
    db.session.commit()
    return ids


def _payouts() -> list[tuple[int, PayoutStatus, str | None]]:
    db.session.rollback()  # a fresh snapshot of what the worker committed
    return db.session.execute(
        sa.select(Payout.organization_id, Payout.status, Payout.transfer_id)).all()


def _statuses() -> Counter:
    return Counter(status for _, status, _ in _payouts())


def _status(order: Order) -> OrderStatus:
    db.session.rollback()
    return db.session.scalar(sa.select(Order.status).where(Order.id == order.id))


def test_worker_and_beat_run_every_kind_of_job(app, broker, database_url, tmp_path):
    seller = make_seller()
    product = make_product(seller.organization, price_cents=1200, stock=2)
    order = place_order([(product, 1)])
    end_hold(order)
    card = make_card(2500, buyer_name="Camille", recipient_name="Léa",
                     recipient_email="lea@example.org", deliver_on=utcnow().date(), locale="fr")
    (owed,) = _owed_sellers(1)
    outbox = tmp_path / "instance" / "outbox"

    with running_worker(database_url, tmp_path / "instance", broker=broker, beat=True,
                        schedule=FAST) as (process, log):
        # Nothing is sent to the queue by the test: beat sends each job when it is due.
        (mail,) = wait_for(lambda: sorted(outbox.glob("*.eml")), process, log)
        wait_for(lambda: _payouts(), process, log)
        wait_for(lambda: _status(order) != OrderStatus.PENDING_PAYMENT, process, log)

    db.session.rollback()
    assert db.session.get(Order, order.id).status == OrderStatus.EXPIRED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Hold).where(
        Hold.order_id == order.id, Hold.state == HoldState.HELD)) == 0
    assert db.session.get(GiftCard, card.id).delivered_at is not None
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"] == "lea@example.org"
    assert card.display_code in message.get_body(preferencelist=("plain",)).get_content()
    assert _payouts() == [(owed, PayoutStatus.PAID, _payouts()[0][2])]
    assert ledger.balance(owed) == 0
    text = log.read_text()
    for task in ("payments.expire_holds", "giftcards.deliver_due", "notifications.send_email",
                 "ledger.run_payouts"):
        assert f"Task {task}[" in text and "succeeded" in text, task
    assert "beat: Starting" in text


def test_a_payout_run_killed_half_way_is_taken_up_again_and_pays_each_seller_once(
        app, broker, database_url, tmp_path):
    sellers = _owed_sellers(SELLERS)
    instance = tmp_path / "instance"
    quick = {"CELERY_VISIBILITY_TIMEOUT": "2"}

    with running_worker(database_url, instance, broker=broker, env=quick, name="first") as (
            first, first_log):
        Celery(broker=broker).send_task("ledger.run_payouts")
        wait_for(lambda: any(status == PayoutStatus.PAID for _, status, _ in _payouts()),
                 first, first_log, every=0.02)
        first.send_signal(signal.SIGKILL)  # no warm shutdown: the job dies mid-run
        first.wait(timeout=15)
    half_way = _payouts()
    assert 0 < sum(status == PayoutStatus.PAID for _, status, _ in half_way) < SELLERS

    with running_worker(database_url, instance, broker=broker, env=quick, name="second") as (
            second, second_log):
        if broker.startswith("amqp"):
            # Nothing is sent again: RabbitMQ gives the unfinished job to the new worker as soon
            # as the dead one's connection drops.
            pass
        else:
            # Redis gives it back only after the visibility timeout, when a worker next scans
            # for such jobs (every 100 s or so with kombu's defaults): run it again now, as the
            # beat scheduler would at the next due time; the job given back later finds nothing
            # to pay.
            Celery(broker=broker).send_task("ledger.run_payouts")
        wait_for(lambda: _statuses() == {PayoutStatus.PAID: SELLERS}, second, second_log,
                 seconds=180)
        assert "Task ledger.run_payouts[" in second_log.read_text()

    payouts = _payouts()
    assert Counter(organization_id for organization_id, _, _ in payouts) == Counter(sellers)
    assert len({transfer_id for _, _, transfer_id in payouts}) == SELLERS
    assert all(ledger.balance(organization_id) == 0 for organization_id in sellers)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization).where(
        Organization.id.in_(sellers), Organization.payouts_enabled.is_(True))) == SELLERS
