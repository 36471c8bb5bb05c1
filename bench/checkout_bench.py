"""Checkouts per second on one hot product, over HTTP against gunicorn on PostgreSQL.

    .venv/bin/python bench/checkout_bench.py [--clients 20] [--seconds 20] [--workers 4]
        [--stock-for-oversell 300] [--pg URL]

A throw-away PostgreSQL database gets the migrations, one approved seller, one product and a
pickup slot with room for everyone. gunicorn serves the app (production config, demo payment
gateway). Each client is a thread with its own keep-alive connection; one iteration is what a
new shopper does: add the product to a new cart (POST /cart/add), then check out as a guest
(POST /checkout), which holds a unit and a slot place and redirects to the payment page. The
checkout POSTs are counted and timed.

Phase 1 measures the rate with plenty of stock. Phase 2 sets the stock to --stock-for-oversell
and lets the clients run until it is gone: the units held must equal the stock (oversell 0).
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
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

from pg import throwaway_database  # noqa: E402

PORT = 5181
TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def seed(database_url: str, env: dict) -> dict:
    subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    from marketplace import create_app
    from marketplace.catalog import services as catalog
    from marketplace.db import db, utcnow
    from marketplace.organizations.models import (
        EssStatus,
        Organization,
        OrganizationKind,
        OrganizationStatus,
    )
    from marketplace.pickup import services as pickup

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        org = Organization(kind=OrganizationKind.ASSOCIATION, status=OrganizationStatus.APPROVED,
                           name="Ressourcerie du banc d'essai", slug="bench", rna="W691000001",
                           address_line="1 rue A", postcode="69001", town="Lyon",
                           ess_status=EssStatus.ASSOCIATION, description="")
        db.session.add(org)
        db.session.flush()
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
    engine.dispose()


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
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response, data

    def _template_session(self):
        """A session cookie holding a CSRF token and no cart: every iteration starts from it."""
        response, data = self._request("GET", f"/products/{self.ids['product']}")
        cookie = response.getheader("Set-Cookie").split(";")[0]
        return cookie, TOKEN.search(data).group(1).decode()

    def checkout_once(self) -> tuple[bool, float]:
        response, _ = self._request("POST", "/cart/add", {
            "csrf_token": self.token, "product_id": self.ids["product"], "quantity": 1,
        }, cookie=self.template_cookie)
        set_cookie = response.getheader("Set-Cookie")
        cookie = set_cookie.split(";")[0] if set_cookie else self.template_cookie
        started = time.perf_counter()
        response, _ = self._request("POST", "/checkout", {
            "csrf_token": self.token, "name": "Camille Bench", "email": "bench@example.org",
            "accept_terms": "y", f"slot-{self.ids['org']}": self.ids["slot"],
        }, cookie=cookie)
        elapsed = time.perf_counter() - started
        location = response.getheader("Location") or ""
        return response.status == 303 or (response.status == 302 and "/payments/" in location), elapsed


def run_phase(ids, clients: int, seconds: float | None, stop_after_refusals: int | None = None):
    results = []
    lock = threading.Lock()
    deadline = time.perf_counter() + (seconds or 3600)
    refusals = [0]

    def worker():
        client = Client(ids)
        while time.perf_counter() < deadline:
            ok, elapsed = client.checkout_once()
            with lock:
                results.append((ok, elapsed))
                if not ok:
                    refusals[0] += 1
                if stop_after_refusals and refusals[0] >= stop_after_refusals:
                    return

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--stock-for-oversell", type=int, default=300)
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
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{PORT}",
             "--worker-class", "gthread", "--threads", str(args.threads), "--log-level", "warning",
             "marketplace:create_app()"],
            env=env, cwd=ROOT)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)

        run_phase(ids, args.clients, 3)  # warm-up
        results, elapsed = run_phase(ids, args.clients, args.seconds)
        ok = [e for good, e in results if good]
        timings = sorted(e * 1000 for _, e in results)
        rate = len(ok) / elapsed
        print(f"phase 1: {len(ok)} checkouts in {elapsed:.1f} s = {rate:.0f}/s; "
              f"p50 {statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * .95) - 1]:.1f} ms, "
              f"p99 {timings[int(len(timings) * .99) - 1]:.1f} ms, failures {len(results) - len(ok)}")

        set_stock(database_url, ids["product"], args.stock_for_oversell)
        results, elapsed = run_phase(ids, args.clients, 60, stop_after_refusals=args.clients * 5)
        succeeded = sum(1 for good, _ in results if good)
        held = held_units(database_url, ids["product"])
        print(f"phase 2: stock {args.stock_for_oversell}, {len(results)} attempts, {succeeded} checkouts "
              f"succeeded, {held} units held, oversell {max(0, held - args.stock_for_oversell)}")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(10)


if __name__ == "__main__":
    main()
