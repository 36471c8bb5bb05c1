"""The CPU one request of each write path costs, in-process (issue 16 item 6): a counter
volunteer's JSON card debit, a counter volunteer's express voucher redemption, and a guest's
add to cart + checkout (demo gateway) on one product.

    .venv/bin/python bench/writes_profile.py [--paths debit,redeem,checkout] [--iterations 400]
        [--rounds 2] [--profile debit|redeem|add|checkout] [--sql] [--redis URL] [--pg URL]

Each path gets its throw-away PostgreSQL database and the seed of its HTTP benchmark
(giftcard_bench.py, redemption_bench.py, checkout_bench.py); the app runs with the production
config (with REDIS_URL when --redis is given, as `make bench` runs it: the rate limiter's
storage is then Redis). The requests go through the Flask test client in this process, one
after the other, so no network, no gunicorn, no lock waits: what is left is the CPU each
request costs, here (time.process_time) and in the PostgreSQL backends of the throw-away
database (read from /proc). On a machine shared with other work these figures move much less
than requests per second under load; compare two versions of the code in alternated runs.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import PASSWORD, backends_of, in_process_client, process_cpu_seconds  # noqa: E402
from pg import throwaway_database  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BASE_URL = "https://bench.example.org"


def environment(database_url: str, redis: str | None) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": secrets.token_hex(24),
           "SERVER_BASE_URL": BASE_URL, "INSTANCE_PATH": "/tmp/bench-writes-instance",
           "PROXY_COUNT": "0"}
    if redis:
        env["REDIS_URL"] = redis
    else:
        env.pop("REDIS_URL", None)
    use(env)  # the seed's app reads DATABASE_URL from the environment too
    return env


def use(env: dict) -> None:
    for key in ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "PROXY_COUNT", "SERVER_BASE_URL",
                "REDIS_URL"):
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)


def login(client, base: str, email: str, page: str) -> str:
    """Logs the client in with the form; the CSRF token of `page`."""
    csrf = TOKEN.search(client.get("/login", base_url=base).get_data(as_text=True)).group(1)
    response = client.post("/login", base_url=base, data={
        "csrf_token": csrf, "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return TOKEN.search(client.get(page, base_url=base).get_data(as_text=True)).group(1)


def debit_requests(args, database_url: str):
    from giftcard_bench import seed

    env = environment(database_url, args.redis)
    ids = seed(database_url, env, 1)
    use(env)
    client, base, statements = in_process_client()
    org, (_, code) = ids["org"], ids["hot"]
    csrf = login(client, base, ids["emails"][0], f"/orgs/{org}/counter/cards")

    def debit():
        response = client.post(f"/orgs/{org}/counter/cards/debit", base_url=base,
                               headers={"X-CSRFToken": csrf},
                               json={"q": code, "amount_cents": 1,
                                     "nonce": secrets.token_urlsafe(12)})
        assert response.status_code == 200, response.get_data(as_text=True)

    return client, statements, {"debit": debit}


def redeem_requests(args, database_url: str):
    from redemption_bench import BASE_URL as VOUCHER_BASE
    from redemption_bench import seed

    env = environment(database_url, args.redis)
    env["SERVER_BASE_URL"] = VOUCHER_BASE
    ids = seed(database_url, env, 1, args.iterations * args.rounds + 60, 2000)
    use(env)
    client, base, statements = in_process_client()
    org = ids["org"]
    csrf = login(client, base, ids["emails"][0], f"/orgs/{org}/counter")
    tokens = list(ids["tokens"])

    def redeem():
        response = client.post(f"/orgs/{org}/counter/redeem", base_url=base,
                               headers={"X-CSRFToken": csrf},
                               json={"q": f"{VOUCHER_BASE}/v/{tokens.pop()}",
                                     "nonce": secrets.token_urlsafe(12)})
        assert response.status_code == 200, response.get_data(as_text=True)

    return client, statements, {"redeem": redeem}


def checkout_requests(args, database_url: str):
    from checkout_bench import seed

    env = environment(database_url, args.redis)
    ids = seed(database_url, env)
    use(env)
    client, base, statements = in_process_client()
    page = client.get(f"/products/{ids['product']}", base_url=base)
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    template = client.get_cookie("ess_session", domain="127.0.0.1").value

    def add():
        client.set_cookie("ess_session", template, domain="127.0.0.1")  # a new shopper
        response = client.post("/cart/add", base_url=base, data={
            "csrf_token": token, "product_id": ids["product"], "quantity": 1})
        assert response.status_code == 302, response.status_code

    def checkout():
        response = client.post("/checkout", base_url=base, data={
            "csrf_token": token, "name": "Camille Bench", "email": "bench@example.org",
            "accept_terms": "y", f"slot-{ids['org']}": ids["slot"]})
        assert response.status_code == 303, (response.status_code,
                                             response.get_data(as_text=True)[:2000])

    return client, statements, {"add": add, "checkout": checkout}


PATHS = {"debit": debit_requests, "redeem": redeem_requests, "checkout": checkout_requests}


def measure(args, path: str, database_url: str) -> None:
    client, statements, steps = PATHS[path](args, database_url)
    database = sa.make_url(database_url).database
    for _ in range(20):  # warm-up: statements prepared, caches filled
        for step in steps.values():
            step()
    profiler = cProfile.Profile(time.process_time) if args.profile in steps else None
    for round_number in range(1, args.rounds + 1):
        cpu = dict.fromkeys(steps, 0.0)
        pg = dict.fromkeys(steps, 0.0)
        count = dict.fromkeys(steps, 0)
        for _ in range(args.iterations):
            for name, step in steps.items():
                statements.clear()
                pg_started = process_cpu_seconds(backends_of(database))
                started = time.process_time()
                if profiler and name == args.profile:
                    profiler.enable()
                step()
                if profiler and name == args.profile:
                    profiler.disable()
                cpu[name] += time.process_time() - started
                pg[name] += process_cpu_seconds(backends_of(database)) - pg_started
                count[name] += len(statements)
        n = args.iterations
        for name in steps:
            print(f"{path} round {round_number}: {name}: CPU {cpu[name] / n * 1000:.2f} ms here "
                  f"+ {pg[name] / n * 1000:.2f} ms in PostgreSQL, "
                  f"{count[name] / n:.1f} SQL statements", flush=True)
    if args.sql:
        for name, step in steps.items():
            statements.clear()
            step()
            print(f"{name}:")
            for number, statement in enumerate(statements, 1):
                print(f"  {number:2d}. {' '.join(statement.split())[:200]}")
    if profiler:
        stats = pstats.Stats(profiler)
        if args.dump:
            profiler.dump_stats(args.dump)
        stats.sort_stats(args.sort).print_stats(args.lines)
    from marketplace.db import db

    with client.application.app_context():
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", default="debit,redeem,checkout")
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", choices=["debit", "redeem", "add", "checkout"])
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--dump", help="also write the cProfile statistics to this file")
    parser.add_argument("--sql", action="store_true", help="list the statements of each request")
    parser.add_argument("--redis", help="REDIS_URL for the app (make bench sets one)")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for path in args.paths.split(","):
        with throwaway_database(args.pg, f"bench_writes_{path}") as database_url:
            measure(args, path, database_url)


if __name__ == "__main__":
    main()
