"""Counter debits per second on ONE gift card, 20 tills at once, over HTTP against gunicorn on
PostgreSQL; then checks that the card's ledger adds up.

    .venv/bin/python bench/giftcard_bench.py [--clients 20] [--seconds 20]
        [--worker-class sync|gthread] [--workers 4] [--threads 1] [--keep-alive 30] [--pg URL]

A throw-away PostgreSQL database gets the migrations, one seller with one counter volunteer per
client, and a 150 € card. gunicorn serves the app (production config). Each client is a thread
with its own connection (layout: common.add_server_arguments), logged in through the login
form; one debit is the counter's JSON request (POST /orgs/<id>/counter/cards/debit with the card code, 1 cent and a new nonce).
Every debit waits for the card's row lock: this measures the hottest row of the gift card
system. Phase 2 drains a 10 € card with 70-cent debits from all clients at once: exactly 14
succeed, the balance ends at 0,20 €. Both cards' transactions must add up to their balance.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402
    StaffClient,
    add_server_arguments,
    bench_app,
    bench_seller,
    counter_staff,
    migrate,
    percentile,
    server_layout,
    start_gunicorn,
    stop_gunicorn,
)
from pg import throwaway_database  # noqa: E402

PORT = 5183


def seed(database_url: str, env: dict, clients: int) -> dict:
    migrate(env)
    from marketplace.db import db
    from marketplace.giftcards import services as cards

    app = bench_app(database_url)
    with app.app_context():
        org = bench_seller("Épicerie du banc d'essai")
        emails = counter_staff(org, clients, prefix="till", name="Caisse")
        hot = cards.issue(15000, buyer_email="bench@example.org")
        drained = cards.issue(1000, buyer_email="bench@example.org")
        db.session.commit()
        ids = {"org": org.id, "emails": emails, "hot": (hot.id, hot.code),
               "drained": (drained.id, drained.code)}
        db.engine.dispose()
    return ids


class Till(StaffClient):
    def __init__(self, org_id: int, email: str):
        self.org = org_id
        super().__init__(PORT, email, f"/orgs/{org_id}/counter/cards")

    def debit(self, code: str, cents: int) -> tuple[int, float]:
        started = time.perf_counter()
        response, _ = self.request("POST", f"/orgs/{self.org}/counter/cards/debit", json_body={
            "q": code, "amount_cents": cents, "nonce": secrets.token_urlsafe(12)})
        return response.status, time.perf_counter() - started


def run(tills, code: str, cents: int, seconds: float | None, until_refused: int | None = None):
    results, lock = [], threading.Lock()
    deadline = time.perf_counter() + (seconds or 120)
    refused = [0]

    def worker(till):
        while time.perf_counter() < deadline:
            status, elapsed = till.debit(code, cents)
            with lock:
                results.append((status, elapsed))
                if status != 200:
                    refused[0] += 1
                if until_refused and refused[0] >= until_refused:
                    return

    threads = [threading.Thread(target=worker, args=(t,)) for t in tills]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def card_check(database_url: str, card_id: int) -> tuple[int, int, int]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        balance = conn.execute(sa.text("SELECT balance_cents FROM gift_card WHERE id = :i"),
                               {"i": card_id}).scalar()
        total = conn.execute(sa.text(
            "SELECT coalesce(sum(amount_cents), 0) FROM card_transaction WHERE card_id = :i"),
            {"i": card_id}).scalar()
        debits = conn.execute(sa.text(
            "SELECT count(*) FROM card_transaction WHERE card_id = :i AND kind = 'redeem'"),
            {"i": card_id}).scalar()
    engine.dispose()
    return balance, total, debits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    add_server_arguments(parser)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with throwaway_database(args.pg, "bench_cards") as database_url:
        measure(args, database_url)


def measure(args, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": secrets.token_hex(24),
           "INSTANCE_PATH": "/tmp/bench-cards-instance", "PROXY_COUNT": "0"}
    server = None
    try:
        ids = seed(database_url, env, args.clients)
        server = start_gunicorn(env, PORT, args)
        tills = [Till(ids["org"], email) for email in ids["emails"]]

        hot_id, hot_code = ids["hot"]
        run(tills, hot_code, 1, 3)  # warm-up
        results, elapsed = run(tills, hot_code, 1, args.seconds)
        ok = sorted(e * 1000 for status, e in results if status == 200)
        print(f"phase 1: {len(ok)} debits of 1 cent on one card in {elapsed:.1f} s = "
              f"{len(ok) / elapsed:.0f}/s ({len(results) - len(ok)} failures) with "
              f"{args.clients} clients, {server_layout(args)}")
        print(f"  p50 {statistics.median(ok):.1f} ms, p95 {percentile(ok, .95):.1f} ms, "
              f"p99 {percentile(ok, .99):.1f} ms")
        balance, total, debits = card_check(database_url, hot_id)
        print(f"  card: balance {balance} cents, transactions add up to {total}, "
              f"{debits} debits; 15000 - debits = {15000 - debits}: "
              f"{'OK' if balance == total == 15000 - debits else 'MISMATCH'}")

        drained_id, drained_code = ids["drained"]
        results, _ = run(tills, drained_code, 70, None, until_refused=args.clients * 3)
        succeeded = sum(1 for status, _ in results if status == 200)
        balance, total, debits = card_check(database_url, drained_id)
        print(f"phase 2: a 10 € card, 70-cent debits from {args.clients} clients until refused: "
              f"{succeeded} succeeded (expected 14), balance {balance} cents (expected 20), "
              f"transactions add up to {total}: "
              f"{'OK' if succeeded == 14 and balance == total == 20 else 'MISMATCH'}")
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
