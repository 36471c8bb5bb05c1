"""Where one checkout iteration spends its time, in-process: SQL statements and a cProfile.

    .venv/bin/python bench/checkout_profile.py [--iterations 300] [--profile] [--sql] [--pg URL]

Same database and seed as checkout_bench.py (a throw-away PostgreSQL database, production
config, demo gateway), but the requests go through the Flask test client in this process, one
after the other: the figures are the cost of a request without the network and gunicorn.
Prints milliseconds per request (and the CPU this process used for it, which the other
processes of a shared machine disturb less) and SQL statements per request for POST /cart/add and
POST /checkout; --sql lists the statements of one checkout, --profile the top functions.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checkout_bench import seed  # noqa: E402
from common import in_process_client  # noqa: E402
from pg import throwaway_database  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--profile", choices=["add", "checkout"], help="profile this request")
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with throwaway_database(args.pg, "bench_profile") as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
               "MARKETPLACE_CONFIG": "production", "SECRET_KEY": "b" * 48,
               "INSTANCE_PATH": "/tmp/bench-checkout-instance", "PROXY_COUNT": "0"}
        ids = seed(database_url, env)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH",
                                                "PROXY_COUNT")})
        measure(args, ids)


def measure(args, ids) -> None:
    client, base, statements = in_process_client()
    page = client.get(f"/products/{ids['product']}", base_url=base)
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    template = client.get_cookie("ess_session", domain="127.0.0.1").value

    profiler = cProfile.Profile() if args.profile else None

    add_statements: list[str] = []

    def one(timings, profile=False):
        client.set_cookie("ess_session", template, domain="127.0.0.1")
        statements.clear()
        if profile and args.profile == "add":
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        r = client.post("/cart/add", base_url=base, data={
            "csrf_token": token, "product_id": ids["product"], "quantity": 1})
        timings["add"].append(time.perf_counter() - started)
        timings["add_cpu"].append(time.process_time() - cpu)
        if profile and args.profile == "add":
            profiler.disable()
        assert r.status_code == 302, r.status_code
        timings["add_sql"].append(len(statements))
        add_statements[:] = statements
        statements.clear()
        if profile and args.profile == "checkout":
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        r = client.post("/checkout", base_url=base, data={
            "csrf_token": token, "name": "Camille Bench", "email": "bench@example.org",
            "accept_terms": "y", f"slot-{ids['org']}": ids["slot"]})
        timings["checkout"].append(time.perf_counter() - started)
        timings["checkout_cpu"].append(time.process_time() - cpu)
        if profile and args.profile == "checkout":
            profiler.disable()
        assert r.status_code == 303, (r.status_code, r.get_data(as_text=True)[:2000])
        timings["checkout_sql"].append(len(statements))

    warm = {"add": [], "add_cpu": [], "add_sql": [], "checkout": [], "checkout_cpu": [],
            "checkout_sql": []}
    for _ in range(20):
        one(warm)
    if args.sql:
        for name, listed in (("add to cart", add_statements), ("checkout", statements)):
            print(f"{name}:")
            for number, stmt in enumerate(listed, 1):
                print(f"{number:2d}. {' '.join(stmt.split())[:220]}")
    timings = {"add": [], "add_cpu": [], "add_sql": [], "checkout": [], "checkout_cpu": [],
            "checkout_sql": []}
    for _ in range(args.iterations):
        one(timings, profile=True)
    n = args.iterations
    for name, label in (("add", "add to cart"), ("checkout", "checkout")):
        print(f"{label + ':':12s} {sum(timings[name]) / n * 1000:.1f} ms "
              f"({sum(timings[name + '_cpu']) / n * 1000:.1f} ms of this process's CPU), "
              f"{sum(timings[name + '_sql']) / n:.1f} SQL statements")
    if profiler:
        profiler.dump_stats("/tmp/checkout_profile.prof")
        stats = pstats.Stats(profiler)
        by_package: dict[str, float] = {}
        for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
            if function == "wait" and "psycopg" in filename:
                package = "(waiting for PostgreSQL)"
            elif "site-packages/" in filename:
                package = filename.split("site-packages/")[1].split("/")[0]
            elif "/marketplace/" in filename:
                package = "marketplace"
            else:
                package = "(python and builtins)"
            by_package[package] = by_package.get(package, 0) + tottime
        print("own time per request by package (ms, profiled):")
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {package:28s} {seconds / n * 1000:6.2f}")
        stats.sort_stats("cumulative")
        stats.print_stats(120)
        stats.sort_stats("tottime").print_stats(40)


if __name__ == "__main__":
    main()
