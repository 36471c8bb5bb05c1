"""What counting the page views costs the catalogue (marketplace/audience.py, issue 17).

    .venv/bin/python bench/audience_bench.py [--products 10000] [--repeat 300] [--rounds 4] [--pg URL]

One database (SQLite file, or a throw-away PostgreSQL database with --pg), seeded as
bench/catalog_bench.py does; two apps on it, the same but for AUDIENCE_ENABLED (before: no
counting; after: counting, written by its thread every AUDIENCE_FLUSH_SECONDS as in
production). Each round measures, for each app in turn, the product pages and the shopfronts
with the page cache on (hits: where the counting's share is largest) and off (rendered), as
full in-process requests through the test client from a browser's user agent with a
referrer. p50 / p95 in ms per round and side, printed as Markdown; and the rows written.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_bench import seed  # noqa: E402
from pg import throwaway_database  # noqa: E402

from marketplace import audience, create_app  # noqa: E402
from marketplace.catalog.models import Product  # noqa: E402
from marketplace.db import db  # noqa: E402
from marketplace.organizations.models import Organization  # noqa: E402

HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
           "Referer": "https://www.example.org/un-article"}


def make(database_url: str, tmp: Path, *, counting: bool, cache: int):
    return create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_DIR": str(tmp / "uploads"),
        "SQLALCHEMY_ENGINE_OPTIONS": {}, "DEBUG": False, "CATALOG_CACHE_SECONDS": cache,
        "AUDIENCE_ENABLED": counting, "AUDIENCE_FLUSH_SECONDS": 5,
    })


def measure(app, urls: list[str], repeat: int) -> tuple[float, float]:
    with app.app_context():
        client = app.test_client()
        for url in urls:
            assert client.get(url, headers=HEADERS).status_code == 200, url
        timings = []
        for _ in range(repeat):
            for url in urls:
                start = time.perf_counter()
                response = client.get(url, headers=HEADERS)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def hook_cost(tmp: Path, calls: int = 200_000) -> None:
    """The counting hook alone, in µs per request: a product page from a browser (counted), from
    a robot (left out), and a page that is not counted; measured while the machine was loaded, it is
    scaled like the rest."""
    import timeit

    from flask import Response

    app = make(f"sqlite:///{tmp / 'hook.sqlite3'}", tmp, counting=True, cache=0)
    app.config["AUDIENCE_FLUSH_SECONDS"] = 0  # no thread: the counts stay in memory
    count = audience._hook(app)
    cases = {"product page, browser": ("/products/1", HEADERS),
             "product page, robot": ("/products/1", {"User-Agent": "Googlebot/2.1"}),
             "listing (not counted)": ("/products", HEADERS)}
    for name, (path, headers) in cases.items():
        with app.test_request_context(path, headers=headers):
            from flask import request

            request.url_rule  # noqa: B018 - matched, as in a request
            response = Response("x")
            count(response)  # warm the caches
            seconds = min(timeit.repeat(lambda r=response: count(r), number=calls, repeat=3))
        print(f"| {name} | {seconds / calls * 1e6:.2f} µs |")
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hook", action="store_true", help="only the hook's own cost")
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pages", type=int, default=50, help="product pages measured")
    parser.add_argument("--pg", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.hook:
            print("| request | counting hook |\n| --- | ---: |")
            hook_cost(tmp)
            return
        if args.pg:
            with throwaway_database(args.pg, "bench_audience") as url:
                rows = bench(url, tmp, args)
        else:
            rows = bench(f"sqlite:///{tmp / 'bench.sqlite3'}", tmp, args)
    print("| round | pages | cache | before: p50 / p95 (ms) | after: p50 / p95 (ms) |")
    print("| ---: | --- | --- | ---: | ---: |")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3][0]:.2f} / {row[3][1]:.2f} | "
              f"{row[4][0]:.2f} / {row[4][1]:.2f} |")


def bench(url: str, tmp: Path, args) -> list:
    seeder = make(url, tmp, counting=False, cache=0)
    with seeder.app_context():
        seed(args.products, random.Random(42))
        ids = db.session.scalars(sa.select(Product.id).where(Product.status == "active")
                                 .order_by(Product.id).limit(args.pages)).all()
        slugs = db.session.scalars(sa.select(Organization.slug)).all()
        db.session.remove()
    pages = {"product": [f"/products/{i}" for i in ids], "shopfront": [f"/sellers/{s}" for s in slugs]}
    apps = {(counting, cache): make(url, tmp, counting=counting, cache=cache)
            for counting in (False, True) for cache in (0, 60)}
    rows = []
    for n in range(1, args.rounds + 1):
        for kind, urls in pages.items():
            for cache in (60, 0):
                repeat = args.repeat if cache else max(1, args.repeat // 10)
                before = measure(apps[(False, cache)], urls, repeat)
                after = measure(apps[(True, cache)], urls, repeat)
                rows.append((n, kind, "hit" if cache else "off", before, after))
                print(rows[-1], file=sys.stderr)
    for (counting, _cache), app in apps.items():
        if counting:
            with app.app_context():
                audience.flush()
    with seeder.app_context():
        total = db.session.scalar(sa.select(sa.func.sum(audience.PageViewDay.views)))
        written = db.session.scalar(sa.select(sa.func.count()).select_from(audience.PageViewDay))
        print(f"\n{total} views counted in {written} daily rows.", file=sys.stderr)
        db.session.remove()
    for app in [seeder, *apps.values()]:
        with app.app_context():
            db.engine.dispose()
    return rows


if __name__ == "__main__":
    main()
