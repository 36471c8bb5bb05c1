"""Where one counter redemption spends its time, in-process: SQL statements and a cProfile.

    .venv/bin/python bench/redemption_profile.py [--iterations 300] [--profile express|scan|collect]
        [--sql] [--pg URL]

Same database and seed as redemption_bench.py (a throw-away PostgreSQL database, production
config), but the requests go through the Flask test client in this process, one after the
other: the figures are the cost of a request without the network and gunicorn. Prints
milliseconds and SQL statements per request for the express redeem POST, the scan GET and the
collect POST, and the CPU a request costs: this process's, and the PostgreSQL backends' of the
throw-away database (read from /proc); --sql lists the statements of one express redemption.
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
from redemption_bench import BASE_URL, seed  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
LINE = re.compile(r'name="line" value="(\d+)"')
TICKET = re.compile(r'name="ticket" value="([^"]+)"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--profile", choices=["express", "scan", "collect"])
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    parser.add_argument("--lines", type=int, default=35)
    parser.add_argument("--dump", help="also write the cProfile statistics to this file")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with throwaway_database(args.pg, "bench_redeem_profile") as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
               "MARKETPLACE_CONFIG": "production", "SECRET_KEY": secrets.token_hex(24),
               "SERVER_BASE_URL": BASE_URL, "INSTANCE_PATH": "/tmp/bench-redeem-instance",
               "PROXY_COUNT": "0"}
        ids = seed(database_url, env, 1, args.iterations * 4 + 60)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH",
                                                "PROXY_COUNT", "SERVER_BASE_URL")})
        measure(args, ids)


def backend_cpu_seconds(database: str) -> float:
    return process_cpu_seconds(backends_of(database))


def measure(args, ids) -> None:
    client, base, statements = in_process_client()
    database = sa.make_url(client.application.config["SQLALCHEMY_DATABASE_URI"]).database
    page = client.get("/login", base_url=base).get_data(as_text=True)
    csrf = TOKEN.search(page).group(1)
    response = client.post("/login", base_url=base, data={"csrf_token": csrf, "email": ids["emails"][0],
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    org = ids["org"]
    csrf = TOKEN.search(client.get(f"/orgs/{org}/counter", base_url=base).get_data(as_text=True)).group(1)
    tokens = list(ids["tokens"])

    def express():
        response = client.post(f"/orgs/{org}/counter/redeem", base_url=base, headers={"X-CSRFToken": csrf},
                               json={"q": f"{BASE_URL}/v/{tokens.pop()}",
                                     "nonce": secrets.token_urlsafe(12)})
        assert response.status_code == 200, response.get_data(as_text=True)

    pending = []

    def scan():
        page = client.get(f"/orgs/{org}/counter/scan", base_url=base,
                          query_string={"q": f"{BASE_URL}/v/{tokens.pop()}"}).get_data(as_text=True)
        pending.append(page)

    def collect():
        page = pending.pop()
        response = client.post(f"/orgs/{org}/counter/collect",
                               base_url=base, data={"csrf_token": csrf, "nonce": NONCE.search(page).group(1),
                                     "ticket": TICKET.search(page).group(1), "line": LINE.findall(page)})
        assert response.status_code == 200

    for name, request in (("express", express), ("scan", scan), ("collect", collect)):
        for _ in range(10):  # warm-up
            if name == "collect":
                scan()
            request()
        statements.clear()
        elapsed = 0.0
        cpu_started, pg_started = time.process_time(), backend_cpu_seconds(database)
        profiler = cProfile.Profile(time.process_time) if args.profile == name else None
        for _ in range(args.iterations):
            if name == "collect":
                scan()
                statements.clear() if _ == 0 else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            count_before = len(statements)
            request()
            if profiler:
                profiler.disable()
            elapsed += time.perf_counter() - started
            if name == "collect":
                del statements[:count_before]  # keep the collect's statements only
        cpu = (time.process_time() - cpu_started) / args.iterations * 1000
        pg_cpu = (backend_cpu_seconds(database) - pg_started) / args.iterations * 1000
        per = len(statements) / args.iterations if name != "collect" else len(statements)
        print(f"{name}: {elapsed / args.iterations * 1000:.2f} ms per request, "
              f"{per:.1f} SQL statements; CPU {cpu:.2f} ms here + {pg_cpu:.2f} ms in PostgreSQL"
              + (" (the collect's include its scan's)" if name == "collect" else ""))
        if args.sql and name == "express":
            express()
            for statement in statements[-40:]:
                print("   ", " ".join(statement.split())[:160])
        if profiler:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
            if args.dump:
                profiler.dump_stats(args.dump)


if __name__ == "__main__":
    main()
