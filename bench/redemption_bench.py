"""Counter redemptions per second, over HTTP against gunicorn on PostgreSQL, 20 scanners.

    .venv/bin/python bench/redemption_bench.py [--scanners 20] [--seconds 20]
        [--worker-class sync|gthread] [--workers 4] [--threads 1] [--keep-alive 30]
        [--modes express,two_step,floor] [--timeline] [--vouchers 20000] [--history 20000]
        [--pg URL]

A throw-away PostgreSQL database gets the migrations, one seller with a pickup slot, one
counter volunteer per scanner, --history orders collected in the past and --vouchers paid
orders (one part, two lines, a voucher each), written straight into the tables. gunicorn
serves the app (production config).

Each scanner is a thread with its own connection (gunicorn's layout: see
common.add_server_arguments), logged in through the login form as its volunteer. The modes
run one after the other on fresh vouchers:

- express (the figure compared with pretix's check-in, which is one redeem call per scan):
  POST /orgs/<id>/counter/redeem with the scanned voucher URL and a client nonce, JSON answer;
- two_step (the counter page without script): GET .../counter/scan?q=<url> (the page's form
  posts the same field) renders the lines with a fresh nonce and the ticket for this voucher,
  then "Collected" posts them (POST .../counter/collect); both requests timed;
- floor (not a redemption): the express request with a body the view refuses at once, 400:
  what serving an authenticated request costs before any redemption work.

Each mode also reports the CPU one redemption cost gunicorn (master and workers), the
database's PostgreSQL backends and this client during the timed window (from /proc): on a
shared machine that is the figure to compare, and 2 cores divided by it bounds the rate. The
client's share does the same work in every run: it shows how fast the machine was.
Keep --threads at or under SQLAlchemy's pool size (5): beyond it, each worker opens and closes
overflow connections all the time (and the backends' CPU escapes the count).

A final check reads the database: one collection per voucher handed over, no voucher twice.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402
    StaffClient,
    add_server_arguments,
    backends_of,
    bench_app,
    bench_seller,
    children_of,
    counter_staff,
    migrate,
    percentile,
    process_cpu_seconds,
    server_layout,
    start_gunicorn,
    stop_gunicorn,
)
from pg import throwaway_database  # noqa: E402

PORT = 5182
BASE_URL = "https://marche.example.org"
NONCE = re.compile(rb'name="nonce" value="([^"]+)"')
LINE = re.compile(rb'name="line" value="(\d+)"')


def seed(database_url: str, env: dict, scanners: int, vouchers: int, history: int = 20000) -> dict:
    """The seller, its volunteers, `vouchers` paid orders to redeem and, before them,
    `history` orders collected in the past (their collections, lines and audit lines): the
    tables the counter writes are then the size of a marketplace in use when the statistics are
    taken. Empty ones made PostgreSQL plan their foreign-key checks as sequential scans, kept
    by each connection for the whole run: a redemption then cost more with every one before it
    (bench/RESULTS.md)."""
    migrate(env)
    from marketplace.catalog import services as catalog
    from marketplace.db import db, utcnow
    from marketplace.pickup import services as pickup

    app = bench_app(database_url)
    with app.app_context():
        org = bench_seller("Ressourcerie du banc d'essai")
        category = catalog.get_category("home-decor")
        products = [catalog.create_product(org, title=title, description="", price_cents=1500,
                                           vat_rate_bp=2000, category=category, stock=None,
                                           is_perishable=False, by=None)
                    for title in ("Lampe", "Chaise")]
        location = pickup.save_location(None, org, by=None, name="Boutique",
                                        address_line="1 rue A", postcode="69001", town="Lyon")
        starts = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        slot = pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=3),
                               capacity=1_000_000, cutoff_hours=1, by=None)
        emails = counter_staff(org, scanners, prefix="counter", name="Bénévole")
        db.session.commit()
        ids = {"org": org.id, "emails": emails}

        conn = db.session.connection()
        orders = PaidOrders(conn, org.id, slot.id, [p.id for p in products], utcnow())
        for start in range(0, history, 2000):
            parts = orders.insert(range(start, min(start + 2000, history)))
            collected_long_ago(conn, parts, org.id, staff_id=conn.execute(sa.text(
                'SELECT id FROM "user" WHERE email = :e'), {"e": emails[0]}).scalar_one())
        for start in range(history, history + vouchers, 2000):
            orders.insert(range(start, min(start + 2000, history + vouchers)))
        db.session.commit()
        ids["tokens"] = orders.tokens[history:]
        db.engine.dispose()
    # Statistics and visibility maps up to date now, rather than an autovacuum worker busy
    # with the seeded rows during the timed window.
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return ids


class PaidOrders:
    """Paid orders written straight into the tables, 2,000 at a time: one part at the seller's
    slot, two lines, a voucher each."""

    def __init__(self, conn, org_id: int, slot_id: int, product_ids: list[int], now):
        self.conn, self.org_id, self.slot_id, self.now = conn, org_id, slot_id, now
        self.product_ids = product_ids
        self.tokens: list[str] = []
        self.codes: set[str] = set()

    def insert(self, numbers: range) -> list[int]:
        """The orders numbered `numbers`; their parts' ids."""
        from marketplace.vouchers import codes

        orders = self.conn.execute(sa.text(
            'INSERT INTO "order" (reference, email, name, phone, locale, status, currency, '
            "total_cents, hold_expires_at, terms_accepted_at, payment_gateway, paid_at, "
            "amount_paid_cents, amount_refunded_cents, created_at, updated_at) "
            "SELECT 'ESS-B-' || g, 'shopper' || g || '@example.org', 'Client ' || g, '', "
            "'fr', 'paid', 'EUR', 4500, :now, :now, 'demo', :now, 4500, 0, :now, :now "
            "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS g ORDER BY g RETURNING id"),
            {"now": self.now, "a": numbers.start, "b": numbers.stop - 1}).scalars().all()
        parts = self.conn.execute(sa.text(
            "INSERT INTO order_part (order_id, organization_id, slot_id, status, "
            "subtotal_cents, refunded_cents, commission_rate_bp, commission_cents, "
            "seller_amount_cents) SELECT o, :org, :slot, 'paid', 4500, 0, 500, 225, 4275 "
            "FROM unnest(CAST(:orders AS integer[])) AS o ORDER BY o RETURNING id"),
            {"org": self.org_id, "slot": self.slot_id, "orders": orders}).scalars().all()
        self.conn.execute(sa.text(
            "INSERT INTO order_line (part_id, product_id, title, unit_price_cents, "
            "vat_rate_bp, is_perishable, quantity, refunded_quantity) "
            "SELECT p, :p1, 'Lampe', 1500, 2000, false, 1, 0 FROM unnest(CAST(:parts AS integer[])) AS p "
            "UNION ALL SELECT p, :p2, 'Chaise', 1500, 2000, false, 2, 0 "
            "FROM unnest(CAST(:parts AS integer[])) AS p"),
            {"p1": self.product_ids[0], "p2": self.product_ids[1], "parts": parts})
        rows = []
        for part_id in parts:
            code = codes.new_code()
            while code in self.codes:
                code = codes.new_code()
            self.codes.add(code)
            token = codes.new_token()
            self.tokens.append(token)
            rows.append({"part": part_id, "token": token, "code": code, "now": self.now})
        self.conn.execute(sa.text("INSERT INTO voucher (order_part_id, token, code, created_at) "
                                  "VALUES (:part, :token, :code, :now)"), rows)
        return parts


def collected_long_ago(conn, parts: list[int], org_id: int, staff_id: int) -> None:
    """These parts' orders handed over a month ago: collection, lines, statuses, audit."""
    conn.execute(sa.text("""
        WITH handed AS (
            INSERT INTO collection (voucher_id, nonce, collected_by_id, collected_by_name,
                                    created_at)
            SELECT id, 'seed', :staff, 'Bénévole 0', now() - interval '30 days'
            FROM voucher WHERE order_part_id = ANY(CAST(:parts AS integer[]))
            RETURNING id, voucher_id
        ), lines AS (
            INSERT INTO collected_line (collection_id, order_line_id, quantity)
            SELECT handed.id, order_line.id, order_line.quantity
            FROM handed JOIN voucher ON voucher.id = handed.voucher_id
                 JOIN order_line ON order_line.part_id = voucher.order_part_id
        ), parts AS (
            UPDATE order_part SET status = 'collected', collected_at = now() - interval '30 days'
            WHERE id = ANY(CAST(:parts AS integer[])) RETURNING order_id
        ), orders AS (
            UPDATE "order" SET status = 'collected' WHERE id IN (SELECT order_id FROM parts)
        )
        INSERT INTO audit_entry (created_at, action, actor_id, organization_id, subject_type,
                                 subject_id, data)
        SELECT now() - interval '30 days', 'voucher.collected', :staff, :org, 'OrderPart', p,
               CAST('{"seeded": true}' AS json)
        FROM unnest(CAST(:parts AS integer[])) AS p
    """), {"parts": parts, "staff": staff_id, "org": org_id})


class Scanner(StaffClient):
    def __init__(self, ids, email):
        self.org = ids["org"]
        super().__init__(PORT, email, f"/orgs/{self.org}/counter")

    def express(self, token: str) -> tuple[bool, float, float]:
        started = time.perf_counter()
        status, _ = self.post_json(f"/orgs/{self.org}/counter/redeem", {
            "q": f"{BASE_URL}/v/{token}", "nonce": secrets.token_urlsafe(12)})
        return status == 200, time.perf_counter() - started, 0.0

    def floor(self, token: str) -> tuple[bool, float, float]:
        """The same request with a body the view refuses at once (400, "Send a JSON object."):
        what the server, the login, the CSRF check and an answer cost without a redemption."""
        started = time.perf_counter()
        status, _ = self.post_json(f"/orgs/{self.org}/counter/redeem", [token])
        return status == 400, time.perf_counter() - started, 0.0

    def two_step(self, token: str) -> tuple[bool, float, float]:
        url = f"{BASE_URL}/v/{token}"
        started = time.perf_counter()
        response, page = self.request(
            "GET", f"/orgs/{self.org}/counter/scan?" + urllib.parse.urlencode({"q": url}))
        scanned = time.perf_counter()
        if response.status != 200:
            return False, scanned - started, 0.0
        response, page = self.request(
            "POST", f"/orgs/{self.org}/counter/collect",
            form={"csrf_token": self.csrf, "nonce": NONCE.search(page).group(1).decode(),
                  "ticket": ticket(page), "line": [m.decode() for m in LINE.findall(page)]})
        done = time.perf_counter()
        return response.status == 200, scanned - started, done - scanned


TICKET = re.compile(rb'name="ticket" value="([^"]+)"')


def ticket(page: bytes) -> str:
    """What the scanned page's "Collected" form carries instead of the voucher's id."""
    return TICKET.search(page).group(1).decode()


def run(ids, scanners: int, seconds: float, tokens: list[str], mode: str, meter=None):
    """Each scanner redeems as fast as it gets answers (20 scanners without pause)."""
    results, lock = [], threading.Lock()
    logged_in = [Scanner(ids, email) for email in ids["emails"][:scanners]]
    if meter:
        meter.start()  # after the logins (a password hash costs a lot of CPU on purpose)
    deadline = time.perf_counter() + seconds  # after the logins

    def worker(scanner):
        while time.perf_counter() < deadline:
            with lock:
                if not tokens:
                    return
                token = tokens.pop()
            outcome = getattr(scanner, mode)(token)
            with lock:
                results.append((*outcome, time.perf_counter()))

    threads = [threading.Thread(target=worker, args=(s,)) for s in logged_in]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


class CpuMeter:
    """CPU spent by gunicorn (master and workers), the database's backends and this client
    during a timed window: what one redemption costs the machine, whatever else runs on it."""

    def __init__(self, server_pid: int, database: str):
        self.server_pid, self.database = server_pid, database

    def sample(self) -> tuple[float, float, float]:
        server = process_cpu_seconds([self.server_pid, *children_of(self.server_pid)])
        return server, process_cpu_seconds(backends_of(self.database)), time.process_time()

    def start(self):
        self.started = self.sample()

    def stop(self) -> tuple[float, float, float]:
        return tuple(b - a for a, b in zip(self.started, self.sample(), strict=True))


def report(mode, results, elapsed, args, cpu=None) -> None:
    ok = [r for r in results if r[0]]
    if args.timeline and ok:
        print(f"  {mode} per second, answers/p99 ms: " + timeline(ok))
    print(f"{mode}: {len(ok)} redemptions in {elapsed:.1f} s = {len(ok) / elapsed:.0f}/s "
          f"({len(results) - len(ok)} failures) with {args.scanners} scanners, "
          + server_layout(args))
    if not ok:
        return
    first = sorted(r[1] * 1000 for r in ok)
    rows = [("redeem POST", first)]
    if mode.startswith("two_step"):
        rows = [("scan GET", first), ("collect POST", sorted(r[2] * 1000 for r in ok)),
                ("scan + collect", sorted((r[1] + r[2]) * 1000 for r in ok))]
    for name, values in rows:
        print(f"  {name}: p50 {statistics.median(values):.1f} ms, "
              f"p95 {percentile(values, .95):.1f} ms, p99 {percentile(values, .99):.1f} ms")
    if cpu:
        server, backends, client = (seconds * 1000 / len(ok) for seconds in cpu)
        print(f"  CPU per redemption: gunicorn {server:.2f} ms + PostgreSQL {backends:.2f} ms "
              f"+ bench client {client:.2f} ms = {server + backends + client:.2f} ms "
              f"(on {os.cpu_count()} otherwise idle cores: at most "
              f"{os.cpu_count() * 1000 / (server + backends + client):.0f}/s)")


def timeline(ok) -> str:
    """Each second of the window: how many answers, and their p99. A rate that drifts during
    a run shows something growing (it showed the sequential scans that seed() now avoids)."""
    started = min(r[3] for r in ok)
    seconds: dict[int, list[float]] = {}
    for r in ok:
        seconds.setdefault(int(r[3] - started), []).append(r[1] * 1000)
    return " ".join(f"{len(v)}/{percentile(sorted(v), .99):.0f}"
                    for _, v in sorted(seconds.items()))


def check(database_url: str) -> str:
    """What the run wrote (the seeded history left out): one collection per voucher."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        collections, vouchers, lines = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT voucher_id), "
            "(SELECT count(*) FROM collected_line JOIN collection c ON c.id = collection_id "
            " WHERE c.nonce <> 'seed') FROM collection WHERE nonce <> 'seed'")).one()
        collected = conn.execute(sa.text(
            "SELECT count(*) FROM order_part WHERE status = 'collected' "
            "AND collected_at > now() - interval '1 day'")).scalar()
    engine.dispose()
    return (f"check: {collections} collections for {vouchers} vouchers, {lines} lines, "
            f"{collected} parts collected")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scanners", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    add_server_arguments(parser)
    parser.add_argument("--vouchers", type=int, default=20000)
    parser.add_argument("--history", type=int, default=20000,
                        help="orders already collected before the run (see seed)")
    parser.add_argument("--modes", default="express,two_step",
                        help="comma-separated: express, two_step, floor")
    parser.add_argument("--timeline", action="store_true",
                        help="also print each second's answers and p99")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with throwaway_database(args.pg, "bench_redeem") as database_url:
        measure(args, database_url)


def measure(args, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": secrets.token_hex(24),
           "SERVER_BASE_URL": BASE_URL, "INSTANCE_PATH": "/tmp/bench-redeem-instance",
           "PROXY_COUNT": "0", "RATELIMIT_STORAGE_URI": "memory://"}
    server = None
    try:
        ids = seed(database_url, env, args.scanners, args.vouchers, args.history)
        tokens = list(ids["tokens"])
        server = start_gunicorn(env, PORT, args)

        meter = CpuMeter(server.pid, sa.make_url(database_url).database)
        for mode in args.modes.split(","):
            run(ids, args.scanners, 3, tokens, mode)  # warm-up
            results, elapsed = run(ids, args.scanners, args.seconds, tokens, mode, meter)
            report(mode, results, elapsed, args, meter.stop())
        print(check(database_url))
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
