"""A works council's campaign of 10,000 cards once issued: its emails queued on Redis, and its
follow-up page rendered, on PostgreSQL.

    .venv/bin/python bench/campaign_sending_bench.py [--size 10000] [--rounds 30]
        [--pg URL] [--redis redis://127.0.0.1:6379/14]

A throw-away database gets the migrations, a works council and its officer, one campaign of
`size` beneficiaries paid and issued (the real issuance), and a third of its cards spent at
three sellers of different kinds (written in bulk: the figure measured is the reading).
- Queueing: `sending.queue_sending` in its unit of work, with a Redis broker (a database
  number of its own, emptied): the cards marked queued, the commit, then one Celery message per
  card pushed to Redis. The clock stops when every message is in Redis (checked: the queue's
  length equals the number of cards). Target (issue 15): 10,000 emails queued in under 10 s.
  The sending itself then runs on the workers at CAMPAIGN_MAIL_RATE.
- Follow-up: GET /orgs/<id>/campaigns/<id>/dashboard through the Flask test client, logged in
  as the officer, `rounds` times after a warm-up: p50 and p95. Target: p95 under 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import bench_works_council, migrate  # noqa: E402
from pg import throwaway_database  # noqa: E402


def run(database_url: str, redis_url: str, size: int, rounds: int) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app"}
    migrate(env)
    import logging

    import redis
    import sqlalchemy as sa

    from marketplace import create_app, uow
    from marketplace.accounts import sessions
    from marketplace.campaigns import sending, services
    from marketplace.campaigns.models import (
        AmountMode,
        Beneficiary,
        Campaign,
        CampaignEvent,
        UnspentPolicy,
    )
    from marketplace.db import db, utcnow
    from marketplace.giftcards.models import CardTransaction, GiftCard, TransactionKind
    from marketplace.organizations.models import (
        EssStatus,
        Organization,
        OrganizationKind,
        OrganizationStatus,
    )

    logging.basicConfig(level=logging.WARNING)
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    # Issued in-process (no broker), then the broker switched on for the queueing.
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url,
                                           "SERVER_NAME": None})
    with app.app_context():
        officer, cse = bench_works_council()
        sellers = [Organization(kind=kind, status=OrganizationStatus.APPROVED, name=name,
                                slug=name.lower().replace(" ", "-"), address_line="2 rue B",
                                postcode="69002", town="Lyon", ess_status=status, description="")
                   for name, kind, status in (
                       ("Ressourcerie", OrganizationKind.ASSOCIATION, EssStatus.ASSOCIATION),
                       ("Coop Vélo", OrganizationKind.SOCIAL_ENTERPRISE, EssStatus.SCOP),
                       ("Atelier Insertion", OrganizationKind.SOCIAL_ENTERPRISE, EssStatus.SIAE))]
        db.session.add_all(sellers)
        db.session.flush()
        key = sessions.start_session(officer, remembered=False, user_agent="bench")
        db.session.commit()
        rows = [{"last_name": f"Lefèvre{i}", "first_name": "Hélène", "line": i + 2,
                 "email": f"salarie.{i}@entreprise-exemple.fr", "employee_number": f"M{i:06d}",
                 "children": 0, "amount_cents": 5000} for i in range(size)]
        with uow.unit():
            campaign = services.create_campaign(cse, services.CampaignSettings(
                name="Noël", event=CampaignEvent.CHRISTMAS, year=2026, send_on=date(2026, 12, 10),
                validity_months=12, amount_mode=AmountMode.SAME, amount_cents=5000,
                unspent_policy=UnspentPolicy.CREDIT, category_slugs={"toys", "books"}),
                by=officer, today=date(2026, 1, 1))
            services.replace_beneficiaries(campaign, rows, by=officer, filename="salaries.csv")
            if services.ready_for_quote(campaign):
                services.acknowledge_risk(campaign, by=officer)
            services.mark_quoted(campaign, by=officer)
            campaign_id = campaign.id
        with uow.unit():
            services.mark_paid(db.session.get(Campaign, campaign_id), by=officer)
        card_ids = db.session.scalars(sa.select(Beneficiary.card_id).where(
            Beneficiary.campaign_id == campaign_id).order_by(Beneficiary.id)).all()
        assert len(card_ids) == size and all(card_ids)
        spent = card_ids[: size // 3]
        db.session.execute(sa.insert(CardTransaction.__table__), [
            {"card_id": card_id, "kind": TransactionKind.REDEEM, "amount_cents": -2000,
             "balance_after_cents": 3000, "organization_id": sellers[i % 3].id, "reason": "",
             "created_at": utcnow()} for i, card_id in enumerate(spent)])
        db.session.execute(sa.update(GiftCard).where(GiftCard.id.in_(spent))
                           .values(balance_cents=3000))
        db.session.commit()
        # The statistics autovacuum would gather within a minute of these bulk writes: without
        # them PostgreSQL plans for the empty tables it saw last (a nested loop: 1.6 s).
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        if os.environ.get("BENCH_EXPLAIN"):
            from marketplace.campaigns import dashboard

            campaign = db.session.get(Campaign, campaign_id)
            query = dashboard.spending_by_day_query(campaign)
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            for line in db.session.execute(sa.text(f"EXPLAIN ANALYZE {compiled}")):
                print(line[0])

        # Queueing, on Redis.
        celery = app.extensions["celery"]
        celery.conf.update(broker_url=redis_url, broker_write_url=redis_url,
                           task_always_eager=False)
        celery._pool = None  # the producers' connections, made anew on the broker named now
        celery.amqp._producer_pool = None
        campaign = db.session.get(Campaign, campaign_id)
        start = time.perf_counter()
        with uow.unit():
            queued = sending.queue_sending(campaign)
        elapsed = time.perf_counter() - start
        waiting = broker.llen("celery")
        assert queued == size and waiting == size, (queued, waiting)
        print(f"queue {size:,} emails: {elapsed:.2f} s ({size / elapsed:,.0f}/s); "
              f"{waiting:,} messages in Redis", flush=True)
        broker.flushdb()
        app.extensions["celery"].conf.update(task_always_eager=True)

        # The follow-up page.
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key
        url = f"/orgs/{cse.id}/campaigns/{campaign_id}/dashboard"
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        text = response.get_data(as_text=True)
        assert "Coopérative SCOP" in text or "SCOP" in text, "the chart of kinds is missing"
        timings = []
        for _ in range(rounds):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - start) * 1000)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            client.get(url)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(f"follow-up page of {size:,} cards: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
              f"({rounds} rounds)", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pg", default=os.environ.get(
        "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    with throwaway_database(args.pg, "bench_sending") as url:
        run(url, args.redis, args.size, args.rounds)


if __name__ == "__main__":
    main()
