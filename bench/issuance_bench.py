"""A paid campaign's cards issued: 1,000 and 10,000 named cards, on PostgreSQL (or SQLite).

    .venv/bin/python bench/issuance_bench.py [--sizes 1000 10000] [--repeat 3] [--pg URL | --sqlite]

A throw-away database gets the migrations, a works council, its officer, and per run one
Christmas campaign whose beneficiaries are written as the import writes them, quoted and
committed. The figure is the production path: the unit of work that marks the campaign paid
(services.mark_paid) commits, its receiver queues the issuance job after the commit, and the job
(Celery eager: no broker) issues every card in batches, each committed, then marks the campaign
issued. The clock runs from mark_paid to the end of that unit; the bench checks that every
beneficiary has a card of the right amount and that the campaign is issued. Target (issue 14):
10,000 cards in under 5 s.
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


def beneficiaries(n: int) -> list[dict]:
    return [{"last_name": f"Lefèvre{i}", "first_name": "Hélène", "line": i + 2,
             "email": f"salarie.{i}@entreprise-exemple.fr", "employee_number": f"M{i:06d}",
             "children": i % 3, "amount_cents": 3000 + (i % 15) * 1000} for i in range(n)]


def run(database_url: str, sizes: list[int], repeat: int) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app"}
    migrate(env)
    import sqlalchemy as sa

    from marketplace import create_app, uow
    from marketplace.campaigns import issuance, services
    from marketplace.campaigns.models import (
        AmountMode,
        Beneficiary,
        Campaign,
        CampaignEvent,
        CampaignStatus,
        UnspentPolicy,
    )
    from marketplace.db import db
    from marketplace.giftcards.models import GiftCard

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    results = []
    with app.app_context():
        officer, cse = bench_works_council()
        db.session.commit()
        for size in sizes:
            timings = []
            rows = beneficiaries(size)
            for _ in range(repeat):
                settings = services.CampaignSettings(
                    name=f"Noël {size}", event=CampaignEvent.CHRISTMAS, year=2026,
                    send_on=date(2026, 12, 18), validity_months=12,
                    amount_mode=AmountMode.PER_BENEFICIARY, amount_cents=None,
                    unspent_policy=UnspentPolicy.CREDIT, category_slugs={"toys", "books"})
                with uow.unit():
                    campaign = services.create_campaign(cse, settings, by=officer,
                                                        today=date(2026, 1, 1))
                    services.replace_beneficiaries(campaign, rows, by=officer,
                                                   filename="salaries.csv")
                    if services.ready_for_quote(campaign):  # the same employees, run after run
                        services.acknowledge_risk(campaign, by=officer)
                    services.mark_quoted(campaign, by=officer)
                    campaign_id = campaign.id
                db.session.expire_all()
                start = time.perf_counter()
                with uow.unit():
                    services.mark_paid(db.session.get(Campaign, campaign_id), by=officer)
                timings.append(time.perf_counter() - start)
                db.session.expire_all()
                assert db.session.get(Campaign, campaign_id).status == CampaignStatus.ISSUED
                cards = db.session.execute(
                    sa.select(sa.func.count(GiftCard.id),
                              sa.func.sum(GiftCard.initial_cents))
                    .join(Beneficiary, Beneficiary.card_id == GiftCard.id)
                    .where(Beneficiary.campaign_id == campaign_id)).one()
                assert tuple(cards) == (size, sum(r["amount_cents"] for r in rows)), cards
                assert issuance.issue_cards(db.session.get(Campaign, campaign_id)) == 0
            result = {"size": size, "median": statistics.median(timings), "best": min(timings)}
            results.append(result)
            print(f"{size:>6} cards  median {result['median']:.2f} s  best {result['best']:.2f} s "
                  f"({size / result['median']:,.0f} cards/s, batches of {issuance.BATCH})", flush=True)
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get(
        "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--sqlite", action="store_true", help="an SQLite file instead")
    args = parser.parse_args()
    if args.sqlite:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.sizes, args.repeat)
        return
    with throwaway_database(args.pg, "bench_issuance") as url:
        run(url, args.sizes, args.repeat)


if __name__ == "__main__":
    main()
