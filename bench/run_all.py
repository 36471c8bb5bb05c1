"""`make bench`: the public catalogue under wrk against gunicorn on PostgreSQL, with the page
cache off and on, next to a bare Flask app serving the same bytes (the ceiling); then the write
paths: gift card balance and debit at the counter under wrk, add to cart + checkout under wrk
too (bench/checkout_wrk.py: each wrk thread, on one connection, makes a new cart for each
checkout, bench/wrk_checkout.lua), then counter redemption with its own benchmark
(bench/redemption_bench.py: each iteration needs a new voucher, which its clients make).
Writes requests/s and p50/p95/p99 per scenario into bench/RESULTS.md (the "make bench"
section, replaced at each run) and prints it.

    .venv/bin/python bench/run_all.py [--quick] [--seconds 10] [--rounds 1] [--products 10000]
        [--connections 20] [--threads 2] [--no-writes | --writes-only] [--no-write-results]
        [--workers 4] [--worker-class sync] [--pg URL]
        [--redis redis://127.0.0.1:6379/14]

Set-up: a throw-away PostgreSQL database with the migrations and the demo data (`flask
seed-demo`), scaled up with --products more products spread over the demo's sellers. The
server is the README's layout: gunicorn with 4 sync workers (bench/common.py), production
settings, the page cache shared in Redis (its own database number, emptied before and after).
Each catalogue scenario walks a list of addresses (several listing pages and filters, 50
product pages, every shopfront, several API queries), so that the cache also misses as it does
in use: each address is rendered again once its entry is CATALOG_CACHE_SECONDS old.

Order, per round: cache off (CATALOG_CACHE_SECONDS=0), cache on, ceiling; alternated within the
same minutes so that a shared machine's load hits all three alike (the load average is
written next to the figures).
"""
from __future__ import annotations

import argparse
import datetime
import http.client
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import add_server_arguments, migrate, server_layout  # noqa: E402
from pg import throwaway_database  # noqa: E402

PORT = 5191
# The product pages walked: the products most looked at, at Christmas. Each is rendered again
# whenever its entry is CATALOG_CACHE_SECONDS old; a long tail of pages seen once in five
# seconds each is served at the price of a render (the "cache off" figures).
PRODUCT_PAGES = 50
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"
SCENARIOS = ("home", "products page", "product page", "shopfront", "API products")
WRITE_BENCHES = [
    ("add to cart + checkout", "checkout_wrk.py", ["--connections", "20"],
     re.compile(r"^add to cart \+ checkout: (wrk .*\ndata check: .*)$", re.M)),
    ("counter redemption", "redemption_bench.py",
     ["--modes", "express", "--vouchers", "8000", "--history", "5000"],
     re.compile(r"^(express: \d+ redemptions .*\n\s+redeem POST: .*)$", re.M)),
]


# --- data --------------------------------------------------------------------------------------

def seed(database_url: str, env: dict, products: int) -> None:
    migrate(env)
    subprocess.run([str(ROOT / ".venv/bin/flask"), "seed-demo"], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    from catalog_bench import ADJECTIVES, NOUNS
    from common import bench_app

    from marketplace.catalog import search
    from marketplace.catalog.models import Category, Product
    from marketplace.db import db, utcnow
    from marketplace.organizations.models import Organization, OrganizationStatus

    app = bench_app(database_url)
    rng = random.Random(16)
    with app.app_context():
        sellers = db.session.scalars(sa.select(Organization).where(
            Organization.status == OrganizationStatus.APPROVED,
            Organization.id.in_(sa.select(Product.organization_id))).order_by(Organization.id)).all()
        categories = [c for c in db.session.scalars(sa.select(Category)) if c.parent_id]
        names = {c.id: [c.name_fr, c.name_en] for c in db.session.scalars(sa.select(Category))}
        first = (db.session.scalar(sa.select(sa.func.max(Product.id))) or 0) + 1
        now = utcnow()
        batch, index = [], []
        for i in range(first, first + products):
            seller, category = sellers[i % len(sellers)], rng.choice(categories)
            title = f"{rng.choice(NOUNS).capitalize()} {rng.choice(ADJECTIVES)} n°{i}"
            description = " ".join(rng.choice(NOUNS + ADJECTIVES) for _ in range(12))
            document = search.search_document(
                title=title, description=description, seller_name=seller.name,
                town=seller.town,
                category_names=[category.name_fr, category.name_en, *names[category.parent_id]])
            batch.append({
                "id": i, "organization_id": seller.id, "category_id": category.id,
                "title": title, "description": description,
                "price_cents": rng.randrange(100, 30000, 10), "vat_rate_bp": 2000,
                "stock": rng.choice([1, 2, 5, 10, 50, None]), "is_perishable": False,
                "status": "active", "search_text": document.text, "created_at": now,
                "updated_at": now})
            index.append(document.row(i))
            if len(batch) == 5000 or i == first + products - 1:
                db.session.execute(sa.insert(Product.__table__), batch)
                search.index_rows(index)
                batch, index = [], []
        db.session.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('product', 'id'), (SELECT max(id) FROM product))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()


def addresses(database_url: str) -> dict[str, list[str]]:
    """Each scenario's list of addresses, read from the database the server will serve."""
    from common import bench_app

    from marketplace.catalog.views import product_url
    from marketplace.db import db

    app = bench_app(database_url)
    rng = random.Random(5)
    with app.app_context(), app.test_request_context():
        client = app.test_client()
        api = client.get("/api/v1/products?limit=24").get_json()
        cursor = api["next_cursor"]
        from marketplace.catalog import listing
        from marketplace.catalog.services import category_tree
        from marketplace.organizations import services as organizations

        roots = [c.slug for c in category_tree()][:3]
        sellers = db.session.scalars(organizations.public_sellers()).all()
        ids = db.session.scalars(sa.text("SELECT id FROM product WHERE status = 'active'")).all()
        products = [listing.get_public_product(i, photos=False)
                    for i in rng.sample(ids, min(PRODUCT_PAGES, len(ids)))]
        lists = {
            "home": ["/"],
            "products page": ["/products", "/products?sort=price_asc", "/products?in_stock=1",
                              f"/products?cursor={cursor}",
                              *(f"/products?category={slug}" for slug in roots),
                              "/products?sort=title", "/products?place=69100"],
            "product page": [product_url(p) for p in products if p is not None],
            "shopfront": [f"/sellers/{s.slug}" for s in sellers],
            "API products": ["/api/v1/products", "/api/v1/products?limit=24&sort=price_desc",
                             f"/api/v1/products?cursor={cursor}", "/api/v1/products?in_stock=true",
                             *(f"/api/v1/products?category={slug}" for slug in roots),
                             "/api/v1/products?sort=title&limit=50"],
        }
        db.engine.dispose()
    return lists


# --- servers -----------------------------------------------------------------------------------

def start(env: dict, args, app_spec: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{PORT}",
         "--worker-class", args.worker_class, "--threads", str(args.threads),
         "--keep-alive", str(args.keep_alive), "--log-level", "warning",
         "--pythonpath", str(ROOT / "bench"), app_spec],
        env=env, cwd=ROOT)
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.2)
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fetch_all(lists: dict[str, list[str]]) -> dict[str, tuple[str, bytes]]:
    pages = {}
    for paths in lists.values():
        for path in paths:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status)
            pages[path] = (response.getheader("Content-Type"), body)
    return pages


def warm(paths: list[str]) -> None:
    for path in paths:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.request("GET", path)
        conn.getresponse().read()


def wrk(paths_file: Path | None, seconds: float, args, *, post: list[str] | None = None) -> dict:
    """GETs of the addresses in `paths_file`, or POSTs (wrk_post.lua's arguments)."""
    script, script_args = ("wrk_post.lua", post) if post else ("wrk_paths.lua", [str(paths_file)])
    out = subprocess.run(
        ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{seconds:g}s",
         "--timeout", "10s", "-s", str(ROOT / "bench" / script),
         f"http://127.0.0.1:{PORT}", "--", *script_args],
        capture_output=True, text=True, check=True).stdout
    fields = re.search(r"^RESULT (.*)$", out, re.M).group(1).split()
    requests, duration = int(fields[0]), float(fields[1])
    p50, p95, p99, errors, bad = (int(v) for v in fields[2:])
    return {"rps": requests / duration, "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
            "errors": errors, "bad": bad, "requests": requests}


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


# --- the run -----------------------------------------------------------------------------------

def catalogue(args, database_url: str, workdir: Path) -> list[dict]:
    base = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
            "MARKETPLACE_CONFIG": "production", "SECRET_KEY": "c" * 48,
            "INSTANCE_PATH": str(workdir / "instance"), "PROXY_COUNT": "0",
            "SERVER_BASE_URL": "https://bench.example.org", "REDIS_URL": args.redis}
    seed(database_url, base, args.products)
    lists = addresses(database_url)
    files = {}
    for name, paths in lists.items():
        files[name] = workdir / f"{name.replace(' ', '_')}.txt"
        files[name].write_text("\n".join(paths) + "\n")
    print("addresses: " + ", ".join(f"{n} {len(p)}" for n, p in lists.items()), flush=True)

    rows = []
    pages_file = workdir / "pages.pickle"
    for round_number in range(1, args.rounds + 1):
        for mode in ("cache off", "cache on", "ceiling"):
            env = dict(base)
            if mode == "ceiling":
                env["CEILING_PAGES"] = str(pages_file)
                server = start(env, args, "ceiling:app")
            else:
                env["CATALOG_CACHE_SECONDS"] = "0" if mode == "cache off" else str(args.cache_seconds)
                flush_redis(args.redis)
                server = start(env, args, "marketplace:create_app()")
            try:
                if mode == "cache on" and not pages_file.exists():
                    with pages_file.open("wb") as file:
                        pickle.dump(fetch_all(lists), file)
                for name in SCENARIOS:
                    warm(lists[name])
                    before = loadavg()
                    result = wrk(files[name], args.seconds, args)
                    result.update(scenario=name, mode=mode, round=round_number,
                                  load=f"{before}-{loadavg()}")
                    rows.append(result)
                    print(f"round {round_number}, {mode:9}, {name:13}: {result['rps']:7.0f}/s, "
                          f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
                          f"p99 {result['p99']:.1f} ms, errors {result['errors']}, "
                          f"non-2xx {result['bad']}, load {result['load']}", flush=True)
            finally:
                stop(server)
    flush_redis(args.redis)
    return rows


def counter_cards(args, database_url: str, workdir: Path) -> list[dict]:
    """Gift cards at the counter under wrk: the balance (the counter's lookup of a card, POST
    /orgs/<id>/counter/cards: the card page with its balance) and the debit of 1 cent (the JSON
    POST of scanner apps), all 20 connections on one card, as one logged-in volunteer."""
    from common import StaffClient
    from giftcard_bench import card_check
    from giftcard_bench import seed as seed_cards

    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app",
           "MARKETPLACE_CONFIG": "production", "SECRET_KEY": "d" * 48,
           "INSTANCE_PATH": str(workdir / "instance"), "PROXY_COUNT": "0",
           "SERVER_BASE_URL": "https://bench.example.org", "REDIS_URL": args.redis}
    flush_redis(args.redis)
    ids = seed_cards(database_url, env, 1)
    card_id, code = ids["hot"]
    server = start(env, args, "marketplace:create_app()")
    rows = []
    try:
        staff = StaffClient(PORT, ids["emails"][0], f"/orgs/{ids['org']}/counter/cards")
        scenarios = [
            ("card balance", [f"/orgs/{ids['org']}/counter/cards", staff.cookie, staff.csrf,
                              "application/x-www-form-urlencoded", f"q={code}"]),
            ("card debit", [f"/orgs/{ids['org']}/counter/cards/debit", staff.cookie, staff.csrf,
                            "application/json",
                            f'{{"q": "{code}", "amount_cents": 1, "nonce": "NONCE"}}']),
        ]
        for name, post in scenarios:
            before = loadavg()
            result = wrk(None, args.write_seconds, args, post=post)
            result.update(scenario=name, mode="wrk", round=1, load=f"{before}-{loadavg()}")
            rows.append(result)
            print(f"{name}: {result['rps']:.0f}/s, p50 {result['p50']:.1f} ms, "
                  f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, errors "
                  f"{result['errors']}, non-2xx {result['bad']}", flush=True)
        stop(server)  # first: the debits wrk left in flight have committed
        server = None
        balance, total, debits = card_check(database_url, card_id)
        rows[-1]["ledger"] = (f"after the debits the card's balance is {balance} cents, its "
                              f"transactions add up to {total}, {debits} debits (wrk counted "
                              f"{rows[-1]['requests']} answers)")
    finally:
        if server is not None:
            stop(server)
        flush_redis(args.redis)
    return rows


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def writes(args) -> list[tuple[str, str]]:
    found = []
    for name, script, options, pattern in WRITE_BENCHES:
        command = [str(ROOT / ".venv/bin/python"), str(ROOT / "bench" / script),
                   "--seconds", f"{args.write_seconds:g}", "--pg", args.pg, *options,
                   # the same gunicorn layout as the other scenarios
                   "--worker-class", args.worker_class, "--workers", str(args.workers),
                   "--threads", str(args.threads), "--keep-alive", str(args.keep_alive)]
        started = loadavg()
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        match = pattern.search(out.stdout)
        # One line per scenario; the lines a benchmark prints after its figures (the data
        # check) follow them after a semicolon.
        line = ("; ".join(" ".join(part.split()) for part in match.group(1).split("\n"))
                if match else f"failed: {out.stderr[-300:]}")
        found.append((name, f"{line} (load {started}-{loadavg()})"))
        print(f"{name}: {line}", flush=True)
    return found


def report(args, rows: list[dict], card_rows: list[dict], write_rows: list[tuple[str, str]],
           started: str) -> str:
    begin, end = markers(args)
    lines = [
        begin,
        "## make bench (issue 16: the public catalogue, and the write paths)" if rows else
        "## make bench, the write paths alone (issue 16 item 6)",
        "",
        f"Run of {started} UTC on {os.cpu_count()} cores, {server_layout(args)}, wrk "
        f"{args.connections} connections on {args.wrk_threads} threads, {args.seconds:g} s per "
        f"scenario, {args.rounds} round(s), {args.products:,} products over the demo sellers, "
        f"page cache {args.cache_seconds} s in Redis. Command:",
        "",
        "```sh",
        "make bench" + (f"  # {' '.join(sys.argv[1:])}" if sys.argv[1:] else ""),
        "```",
        "",
        "Requests per second and latency (ms) per scenario. \"cache off\": the same code with "
        "CATALOG_CACHE_SECONDS=0; \"ceiling\": a bare Flask app (bench/ceiling.py) answering the "
        "same bytes at the same addresses on the same gunicorn. \"load\": the machine's 1-minute "
        "load average before-after (2 cores: above 2, others were running too).",
        "",
        "| round | scenario | mode | requests/s | p50 | p95 | p99 | errors / non-2xx | load |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ] if rows else [
        begin, "## make bench, the write paths alone (issue 16 item 6)", "",
        f"Run of {started} UTC on {os.cpu_count()} cores, {server_layout(args)}. Command:", "",
        "```sh", f"make bench BENCH_ARGS=\"{' '.join(sys.argv[1:])}\"", "```"]
    for r in sorted(rows, key=lambda r: (SCENARIOS.index(r["scenario"]), r["round"])):
        lines.append(f"| {r['round']} | {r['scenario']} | {r['mode']} | {r['rps']:.0f} | "
                     f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                     f"{r['errors']} / {r['bad']} | {r['load']} |")
    if card_rows:
        lines += ["", f"Gift cards at the counter under wrk ({args.write_seconds:g} s each, "
                  f"{args.connections} connections, one card, one logged-in volunteer; the "
                  "balance is the counter's card page, the debit the scanners' JSON POST of 1 "
                  "cent):", "",
                  "| scenario | requests/s | p50 | p95 | p99 | errors / non-2xx | load |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        lines += [f"| {r['scenario']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                  f"{r['p99']:.1f} | {r['errors']} / {r['bad']} | {r['load']} |" for r in card_rows]
        lines += ["", *(f"Card debit: {r['ledger']}." for r in card_rows if "ledger" in r)]
    if write_rows:
        lines += ["", f"Write paths ({args.write_seconds:g} s each, their own benchmarks, same "
                  "gunicorn layout, a throw-away database each; add to cart + checkout with wrk "
                  "as the client, 20 threads of one connection each, bench/checkout_wrk.py; "
                  "counter redemptions with 20 client threads, bench/redemption_bench.py):", ""]
        lines += [f"- {name}: {text}" for name, text in write_rows]
    lines.append(end)
    return "\n".join(lines) + "\n"


def markers(args) -> tuple[str, str]:
    """The section's markers in RESULTS.md: a run of the write paths alone has its own section
    (it leaves the full run's figures alone)."""
    if args.writes_only:
        return "<!-- make bench writes: begin -->", "<!-- make bench writes: end -->"
    return BEGIN, END


def save(section: str, args) -> None:
    begin, end = markers(args)
    text = RESULTS.read_text()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="5 s per scenario, 2,000 products, 5 s per write path")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--cache-seconds", type=int, default=5)
    parser.add_argument("--write-seconds", type=float, default=10)
    parser.add_argument("--no-writes", action="store_true", help="the catalogue only")
    parser.add_argument("--writes-only", action="store_true",
                        help="the write paths only (card debit and balance, checkout, counter)")
    parser.add_argument("--no-write-results", action="store_true",
                        help="print the section; leave bench/RESULTS.md alone")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    add_server_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.products, args.write_seconds = 5, 2000, 5
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: sudo apt-get install wrk")
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    rows = []
    if not args.writes_only:
        with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp, \
                throwaway_database(args.pg, "bench_all") as database_url:
            rows = catalogue(args, database_url, Path(tmp))
    card_rows, write_rows = [], []
    if not args.no_writes:
        with tempfile.TemporaryDirectory(prefix="bench-cards-") as tmp, \
                throwaway_database(args.pg, "bench_cards") as database_url:
            card_rows = counter_cards(args, database_url, Path(tmp))
        write_rows = writes(args)
    section = report(args, rows, card_rows, write_rows, started)
    print(section)
    if not args.no_write_results:
        save(section, args)


if __name__ == "__main__":
    main()
