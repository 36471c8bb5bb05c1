"""Checkouts per second on one hot product, over HTTP against gunicorn on PostgreSQL.

    .venv/bin/python bench/checkout_bench.py [--clients 20] [--seconds 20]
        [--worker-class sync|gthread] [--workers 4] [--threads 1] [--keep-alive 30]
        [--carts-per-client 150] [--stock-for-oversell 300] [--pg URL]

A throw-away PostgreSQL database gets the migrations, one approved seller, one product and a
pickup slot with room for everyone. gunicorn serves the app (production config, demo payment
gateway; layout: common.add_server_arguments). Each client is a thread with its own
connection. A checkout is a guest's POST /checkout, the full path: form and CSRF check, locks on the product and the slot,
re-check, order, holds, demo payment session, redirect to the payment page.

Phase 1a: each iteration is a new shopper, add the product to a new cart (POST /cart/add)
then check out; the checkouts are counted and timed. Phase 1b: each client first fills
--carts-per-client carts over HTTP (setup, outside the timed window), then the timed window
is the checkout POSTs alone, until the deadline or until the carts run out. Both print the
CPU that gunicorn, the PostgreSQL backends and the clients used per checkout.

Phase 2 sets the stock to --stock-for-oversell and lets the clients run (add to cart and
checkout) until it is gone: the units held must equal the stock (oversell 0).
"""
from __future__ import annotations

import argparse
import http.client
import os
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
    CSRF_TOKEN,
    add_server_arguments,
    bench_app,
    bench_seller,
    children_of,
    migrate,
    process_cpu_seconds,
    server_layout,
    start_gunicorn,
    stop_gunicorn,
)
from pg import throwaway_database  # noqa: E402

PORT = 5181


def seed(database_url: str, env: dict) -> dict:
    migrate(env)
    from marketplace.catalog import services as catalog
    from marketplace.db import db, utcnow
    from marketplace.pickup import services as pickup

    app = bench_app(database_url)
    with app.app_context():
        org = bench_seller("Ressourcerie du banc d'essai")
        product = catalog.create_product(org, title="Lampe", description="", price_cents=1500,
                                         vat_rate_bp=2000, category=catalog.get_category("home-decor"),
                                         stock=1_000_000, is_perishable=False, by=None)
        location = pickup.save_location(None, org, by=None, name="Boutique", address_line="1 rue A",
                                        postcode="69001", town="Lyon")
        starts = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        slot = pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=3),
                               capacity=1_000_000, cutoff_hours=1, by=None)
        db.session.commit()
        ids = {"product": product.id, "slot": slot.id, "org": org.id}
        db.engine.dispose()
    return ids


def set_stock(database_url: str, product_id: int, stock: int) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE product SET stock = :s WHERE id = :i"), {"s": stock, "i": product_id})
        conn.execute(sa.text("UPDATE hold SET state = 'released' WHERE state = 'held'"))
        # The counters follow the holds (orders.services): nothing is held any more.
        conn.execute(sa.text("UPDATE product SET held_units = 0"))
        conn.execute(sa.text("UPDATE pickup_slot SET held_places = 0"))
    engine.dispose()


def cpu_snapshot(server_pid: int, database_url: str) -> dict[str, float]:
    """CPU seconds used so far by gunicorn (master and workers), by the PostgreSQL backends of
    the benchmark's database, by this process (the clients), and by the whole machine."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        backends = conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalars().all()
    engine.dispose()
    times = os.times()
    busy = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "gunicorn": process_cpu_seconds([server_pid, *children_of(server_pid)]),
        "postgres": process_cpu_seconds(backends),
        "clients": times.user + times.system,
        "machine": (sum(int(v) for v in busy) - int(busy[3]) - int(busy[4])) / ticks,
    }


def cpu_report(before: dict, after: dict, checkouts: int) -> str:
    used = {k: after[k] - before[k] for k in before}
    others = used["machine"] - used["gunicorn"] - used["postgres"] - used["clients"]
    per = " + ".join(f"{k} {used[k] / checkouts * 1000:.1f}" for k in ("gunicorn", "postgres", "clients"))
    return (f"CPU per checkout (ms): {per}; machine busy {used['machine']:.1f} s of CPU "
            f"(other processes {others:.1f} s)")


def held_units(database_url: str, product_id: int) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(
            "SELECT coalesce(sum(quantity), 0) FROM hold WHERE product_id = :i AND state = 'held' "
            "AND expires_at > now()"), {"i": product_id}).scalar()
    engine.dispose()
    return int(value)


class Client:
    def __init__(self, ids):
        self.ids = ids
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.template_cookie, self.token = self._template_session()

    def _request(self, method, path, body=None, cookie=None):
        headers = {"Host": "127.0.0.1"}
        if cookie:
            headers["Cookie"] = cookie
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            # gunicorn closed the idle keep-alive connection (after 2 s): a new one.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        return response, data

    def _template_session(self):
        """A session cookie holding a CSRF token and no cart: every iteration starts from it."""
        response, data = self._request("GET", f"/products/{self.ids['product']}")
        cookie = response.getheader("Set-Cookie").split(";")[0]
        return cookie, CSRF_TOKEN.search(data).group(1).decode()

    def fill_cart(self) -> str:
        """POST /cart/add from a new session: the session cookie of a cart holding one unit."""
        response, _ = self._request("POST", "/cart/add", {
            "csrf_token": self.token, "product_id": self.ids["product"], "quantity": 1,
        }, cookie=self.template_cookie)
        set_cookie = response.getheader("Set-Cookie")
        return set_cookie.split(";")[0] if set_cookie else self.template_cookie

    def checkout(self, cookie: str) -> tuple[bool, float]:
        """POST /checkout as a guest: True when it redirects to the payment page."""
        started = time.perf_counter()
        response, _ = self._request("POST", "/checkout", {
            "csrf_token": self.token, "name": "Camille Bench", "email": "bench@example.org",
            "accept_terms": "y", f"slot-{self.ids['org']}": self.ids["slot"],
        }, cookie=cookie)
        elapsed = time.perf_counter() - started
        location = response.getheader("Location") or ""
        return response.status == 303 or (response.status == 302 and "/payments/" in location), elapsed

    def checkout_once(self) -> tuple[bool, float]:
        return self.checkout(self.fill_cart())


def make_clients(ids, count: int) -> list[Client]:
    return [Client(ids) for _ in range(count)]


def fill_carts(clients: list[Client], per_client: int) -> tuple[list[list[str]], float]:
    """Setup, not timed in the rate: each client fills `per_client` carts over HTTP."""
    carts: list[list[str]] = [[] for _ in clients]

    def worker(i):
        carts[i] = [clients[i].fill_cart() for _ in range(per_client)]

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return carts, time.perf_counter() - started


def run_phase(clients: list[Client], seconds: float | None, stop_after_refusals: int | None = None,
              carts: list[list[str]] | None = None):
    """Each client checks out until the deadline: a new cart each time (add to cart, then
    checkout), or one of its `carts` filled beforehand, until they run out."""
    results = []
    lock = threading.Lock()
    deadline = time.perf_counter() + (seconds or 3600)
    refusals = [0]

    def worker(i):
        client = clients[i]
        while time.perf_counter() < deadline:
            if carts is None:
                ok, elapsed = client.checkout_once()
            elif carts[i]:
                ok, elapsed = client.checkout(carts[i].pop())
            else:
                return
            with lock:
                results.append((ok, elapsed))
                if not ok:
                    refusals[0] += 1
                if stop_after_refusals and refusals[0] >= stop_after_refusals:
                    return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def summary(results, elapsed: float) -> str:
    ok = [e for good, e in results if good]
    timings = sorted(e * 1000 for _, e in results)
    return (f"{len(ok)} checkouts in {elapsed:.1f} s = {len(ok) / elapsed:.0f}/s; "
            f"checkout p50 {statistics.median(timings):.1f} ms, "
            f"p95 {timings[int(len(timings) * .95) - 1]:.1f} ms, "
            f"p99 {timings[int(len(timings) * .99) - 1]:.1f} ms, failures {len(results) - len(ok)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    add_server_arguments(parser)
    parser.add_argument("--stock-for-oversell", type=int, default=300)
    parser.add_argument("--carts-per-client", type=int, default=150,
                        help="phase 1b: carts each client fills before the timed window")
    parser.add_argument("--phases", default="1a,1b,2", help="which phases to run")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    with throwaway_database(args.pg, "bench_checkout") as database_url:
        measure(args, database_url)


def measure(args, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": "b" * 48,
           "INSTANCE_PATH": "/tmp/bench-checkout-instance", "PROXY_COUNT": "0"}
    server = None
    try:
        ids = seed(database_url, env)
        server = start_gunicorn(env, PORT, args)
        print(f"gunicorn: {server_layout(args)}; {args.clients} clients")

        phases = args.phases.split(",")
        clients = make_clients(ids, args.clients)
        run_phase(clients, 3)  # warm-up

        # 1a: what a new shopper does, add to cart then checkout; the checkouts are counted.
        if "1a" in phases:
            before = cpu_snapshot(server.pid, database_url)
            results, elapsed = run_phase(clients, args.seconds)
            after = cpu_snapshot(server.pid, database_url)
            print("phase 1a (add to cart + checkout in the loop): " + summary(results, elapsed))
            print("phase 1a: " + cpu_report(before, after, sum(ok for ok, _ in results)))

        # 1b: the carts are filled first (not timed); the timed window is the checkout POSTs
        # alone, each the full path (form, CSRF, locks, order, holds, payment session).
        if "1b" in phases:
            carts, fill_seconds = fill_carts(clients, args.carts_per_client)
            print(f"phase 1b setup: {args.clients * args.carts_per_client} carts filled over "
                  f"HTTP in {fill_seconds:.1f} s (not timed)")
            before = cpu_snapshot(server.pid, database_url)
            results, elapsed = run_phase(clients, args.seconds, carts=carts)
            after = cpu_snapshot(server.pid, database_url)
            print("phase 1b (checkout only, carts filled beforehand): " + summary(results, elapsed))
            print("phase 1b: " + cpu_report(before, after, sum(ok for ok, _ in results)))

        if "2" not in phases:
            return
        set_stock(database_url, ids["product"], args.stock_for_oversell)
        results, elapsed = run_phase(clients, 60, stop_after_refusals=args.clients * 5)
        succeeded = sum(1 for good, _ in results if good)
        held = held_units(database_url, ids["product"])
        print(f"phase 2 (add to cart + checkout): stock {args.stock_for_oversell}, {len(results)} "
              f"attempts, {succeeded} checkouts succeeded, {held} units held, "
              f"oversell {max(0, held - args.stock_for_oversell)}")
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
