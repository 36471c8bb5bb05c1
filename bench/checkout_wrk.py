"""Add to cart + checkout on one hot product, with wrk as the client (bench/wrk_checkout.lua).

    .venv/bin/python bench/checkout_wrk.py [--connections 20] [--seconds 20] [--warm-up 3]
        [--worker-class sync|gthread] [--workers 4] [--threads 1] [--keep-alive 30] [--pg URL]

The scenario of checkout_bench.py's phase 1a, same data (checkout_bench.seed: one seller, one
product, one pickup slot with room for everyone) and same server (gunicorn in the layout of
common.add_server_arguments, production config, demo payment gateway), but the clients are
wrk's threads, one connection each, instead of Python threads in this process: the load tool
then costs the shared cores about as little as for the other scenarios of `make bench`.
Each iteration is a new shopper: POST /cart/add from a template session, then POST /checkout
as a guest (the form of checkout_bench.Client); the template sessions, one per connection, are
fetched here before the runs, as checkout_bench.py's clients do. A warm-up run first (its checkouts are counted
apart), then the timed run; no iteration starts after its deadline and wrk is ended once every
thread has had its last answer, so every order the server made has been counted.

Prints the summary line of checkout_bench.py's phase 1a, the CPU per checkout (gunicorn, the
PostgreSQL backends, and wrk for "clients": this process only waits), and a data check: the
orders in the database equal the checkouts counted (warm-up included), and the units held
equal the orders (one unit each). Exits non-zero when the check fails, or when the timed run
made no checkout or a thread never had its last answer.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checkout_bench import cpu_report, cpu_snapshot, held_units, seed  # noqa: E402
from common import (  # noqa: E402
    CSRF_TOKEN,
    add_server_arguments,
    server_layout,
    start_gunicorn,
    stop_gunicorn,
)
from pg import throwaway_database  # noqa: E402

PORT = 5182
SCRIPT = ROOT / "bench" / "wrk_checkout.lua"
# wrk's own end, in case a thread never gets its last answer: the script's window plus this.
GRACE_SECONDS = 20
RESULT = re.compile(r"^RESULT (.*)$", re.M)


def templates(ids: dict, count: int) -> list[str]:
    """`count` template sessions, fetched here before the runs as checkout_bench.Client does:
    for each, the cookie of GET /products/<id> (a session holding a CSRF token and no cart) and
    the page's token, which wrk_checkout.lua's threads then take (COOKIE TOKEN pairs)."""
    pairs = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.request("GET", f"/products/{ids['product']}", headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        page = response.read()
        conn.close()
        pairs += [response.getheader("Set-Cookie").split(";")[0],
                  CSRF_TOKEN.search(page).group(1).decode()]
    return pairs


def run_wrk(ids: dict, connections: int, seconds: float, sessions: list[str]) -> dict:
    """One wrk run of wrk_checkout.lua: its RESULT fields (numbers), and its stderr's last
    lines under "stderr". wrk is ended (SIGINT: it then prints its results) as soon as every
    thread has said it finished. Each finishing thread parks its last connection on a socket
    listened on here and never accepted from (wrk_checkout.lua: not on a sync worker)."""
    parking = socket.socket()
    parking.bind(("127.0.0.1", 0))
    parking.listen(connections * 2)
    try:
        return wrk_parked(ids, connections, seconds, parking.getsockname()[1], sessions)
    finally:
        parking.close()


def wrk_parked(ids: dict, connections: int, seconds: float, parking_port: int,
               sessions: list[str]) -> dict:
    command = ["wrk", "-t", str(connections), "-c", str(connections),
               "-d", f"{math.ceil(seconds) + GRACE_SECONDS}s", "--timeout", "10s",
               "-s", str(SCRIPT), f"http://127.0.0.1:{PORT}", "--",
               str(ids["product"]), str(ids["org"]), str(ids["slot"]), f"{seconds:g}",
               str(parking_port), *sessions]
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished, other = 0, []
    for line in wrk.stderr:
        if line.startswith("wrk_checkout: thread") and line.rstrip().endswith("finished"):
            finished += 1
            if finished == connections:
                break
        else:
            other.append(line)
    while wrk.poll() is None:
        # The signal must reach wrk's main thread, asleep until the end of -d: sent again
        # while a worker thread that has just stopped is still there to take it.
        wrk.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            wrk.wait(0.5)
    other += wrk.stderr.readlines()
    out = wrk.stdout.read()
    match = RESULT.search(out)
    if match is None:
        sys.exit(f"wrk gave no RESULT line (exit {wrk.returncode}):\n{out}\n{''.join(other)}")
    fields = {k: float(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    fields["stderr"] = "".join(other[-5:])
    return fields


def summary(result: dict) -> str:
    """The words of checkout_bench.summary."""
    seconds = result["seconds"] or float("nan")
    return (f"{result['checkouts']:.0f} checkouts in {seconds:.1f} s = "
            f"{result['checkouts'] / seconds:.0f}/s; checkout p50 {result['p50_ms']:.1f} ms, "
            f"p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"failures {result['failures']:.0f}")


def client_cpu_snapshot(server_pid: int, database_url: str) -> dict[str, float]:
    """checkout_bench.cpu_snapshot, the clients being wrk: the CPU of this process's children
    that have ended (wrk, once waited for; gunicorn is still running)."""
    cpu = cpu_snapshot(server_pid, database_url)
    times = os.times()
    cpu["clients"] = times.children_user + times.children_system
    cpu["clients user"] = times.children_user
    return cpu


def order_count(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        value = conn.execute(sa.text('SELECT count(*) FROM "order"')).scalar()
    engine.dispose()
    return int(value)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=20,
                        help="wrk threads, one connection each")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warm-up", type=float, default=3, help="seconds of warm-up run")
    add_server_arguments(parser)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: sudo apt-get install wrk")
    with throwaway_database(args.pg, "bench_checkout_wrk") as database_url:
        ok = measure(args, database_url)
    sys.exit(0 if ok else 1)


def measure(args, database_url: str) -> bool:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": "b" * 48,
           "INSTANCE_PATH": "/tmp/bench-checkout-wrk-instance", "PROXY_COUNT": "0"}
    server = None
    try:
        ids = seed(database_url, env)
        server = start_gunicorn(env, PORT, args)
        print(f"gunicorn: {server_layout(args)}; wrk {args.connections} threads x 1 connection; "
              f"load {loadavg()}", flush=True)

        sessions = templates(ids, args.connections)
        warm = run_wrk(ids, args.connections, args.warm_up, sessions)
        print(f"warm-up: {summary(warm)}", flush=True)

        before = client_cpu_snapshot(server.pid, database_url)
        timed = run_wrk(ids, args.connections, args.seconds, sessions)
        after = client_cpu_snapshot(server.pid, database_url)
        stop_gunicorn(server)  # every answer is in: nothing is left in flight
        server = None
        orders = order_count(database_url)
        held = held_units(database_url, ids["product"])
        counted = int(warm["checkouts"] + timed["checkouts"])
        ok = orders == counted and held == orders

        wrk_cpu = after["clients"] - before["clients"]
        wrk_user = after["clients user"] - before["clients user"]
        # The first two lines are what `make bench` (run_all.py) copies.
        print(f"add to cart + checkout: wrk {args.connections} threads x 1 connection, "
              f"{summary(timed)}")
        print(f"data check: {orders} orders in the database, {counted} checkouts counted "
              f"({warm['checkouts']:.0f} warm-up + {timed['checkouts']:.0f} timed), {held} units "
              f"held: {'ok' if ok else 'MISMATCH'}")
        print(cpu_report(before, after, max(1, int(timed["checkouts"]))))
        print(f"wrk: {timed['iterations']:.0f} iterations, {timed['add_failures']:.0f} failed "
              f"adds to cart, {timed['template_failures']:.0f} failed template fetches, "
              f"{timed['socket_errors']:.0f} socket errors, {timed['unfinished']:.0f} threads "
              f"without their last answer; wrk's CPU {wrk_cpu:.2f} s, {wrk_user:.2f} s of it "
              f"in user space; load {loadavg()}")
        for run in (warm, timed):
            if run["stderr"].strip():
                print("wrk stderr: " + run["stderr"].strip())
        if not timed["checkouts"] or timed["unfinished"]:
            print("the run is not a measure: no checkout, or threads without their last answer")
            return False
        return ok
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
