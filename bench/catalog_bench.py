"""Catalogue listing and search latency at 1k, 10k and 100k products, on SQLite and PostgreSQL.

    .venv/bin/python bench/catalog_bench.py [--sizes 1000,10000,100000] [--repeat 60] [--pg URL]

Each size gets a fresh database (a temporary SQLite file, and a throw-away PostgreSQL database
on the server of --pg), seeded in bulk with believable French products from six sellers. Each
measured request is a full in-process request through the Flask test client (routing, query,
template or JSON rendering), repeated --repeat times after a warm-up; p50 and p95 are reported.
The results table is printed as Markdown, ready for bench/RESULTS.md.
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

from pg import throwaway_database  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.catalog import search  # noqa: E402
from marketplace.catalog.models import Category, Product  # noqa: E402
from marketplace.catalog.services import sync_categories  # noqa: E402
from marketplace.db import db, utcnow  # noqa: E402
from marketplace.organizations.models import (  # noqa: E402
    EssStatus,
    Organization,
    OrganizationKind,
    OrganizationStatus,
)

NOUNS = ["vélo", "chaise", "lampe", "livre", "manteau", "table", "puzzle", "bol", "panier", "écharpe",
         "ordinateur", "téléphone", "miroir", "buffet", "casque", "sacoche", "roman", "album", "jeu",
         "vinyle", "théière", "fauteuil", "bougie", "carnet", "savon", "cartable", "poussette", "radio"]
ADJECTIVES = ["ancien", "révisé", "vintage", "reconditionné", "artisanal", "équitable", "rouge", "bleu",
              "en bois", "en laine", "en osier", "en céramique", "pour enfant", "de ville", "complet"]
PLACES = [("Villeurbanne", "69100"), ("Nantes", "44000"), ("Grenoble", "38000"), ("Toulouse", "31000"),
          ("Lille", "59000"), ("Rennes", "35000")]
SEARCHES = ["velo", "livres", "lampe vintage", "chaise en bois", "ordinateur reconditionne", "theiere"]


def seed(n_products: int, rng: random.Random) -> None:
    db.create_all()
    sync_categories()
    sellers = []
    for i, (town, postcode) in enumerate(PLACES):
        org = Organization(
            kind=OrganizationKind.ASSOCIATION, status=OrganizationStatus.APPROVED, name=f"Ressourcerie {town}",
            slug=f"seller-{i}", rna=f"W{postcode}{i:04d}", address_line="1 rue de la Paix", postcode=postcode,
            town=town, ess_status=EssStatus.ASSOCIATION, description="",
        )
        db.session.add(org)
        sellers.append(org)
    db.session.flush()
    categories = [c for c in db.session.scalars(sa.select(Category)) if c.parent_id is not None]
    now = utcnow()
    parent_names = {c.id: [c.name_fr, c.name_en] for c in db.session.scalars(sa.select(Category))}
    batch, index = [], []
    for i in range(1, n_products + 1):
        seller = sellers[i % len(sellers)]
        category = rng.choice(categories)
        title = f"{rng.choice(NOUNS).capitalize()} {rng.choice(ADJECTIVES)} n°{i}"
        description = " ".join(rng.choice(NOUNS + ADJECTIVES) for _ in range(12))
        document = search.search_document(
            title=title, description=description, seller_name=seller.name, town=seller.town,
            category_names=[category.name_fr, category.name_en, *parent_names[category.parent_id]],
        )
        batch.append({
            "id": i, "organization_id": seller.id, "category_id": category.id, "title": title,
            "description": description, "price_cents": rng.randrange(100, 30000, 10),
            "vat_rate_bp": 2000, "stock": rng.choice([0, 1, 2, 5, 10, None]), "is_perishable": False,
            "status": "active" if rng.random() > 0.05 else "archived", "search_text": document.text,
            "created_at": now, "updated_at": now,
        })
        index.append(document.row(i))
        if len(batch) == 5000:
            _flush(batch, index)
    _flush(batch, index)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('product', 'id'), :n)"), {"n": n_products})
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _flush(batch, index):
    if not batch:
        return
    db.session.execute(sa.insert(Product.__table__), batch)
    search.index_rows(index)
    batch.clear()
    index.clear()


def measure(client, urls: list[str], repeat: int) -> tuple[float, float]:
    for url in urls:  # warm-up
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(repeat):
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def listing_urls(client) -> list[str]:
    first = client.get("/api/v1/products?limit=24").get_json()
    cursor = first["next_cursor"]
    return [
        "/products",
        "/products?category=home&in_stock=1",
        "/products?sort=price_asc",
        f"/products?cursor={cursor}",
        "/products?place=69100",
    ]


def run(database_url: str, n: int, repeat: int, rng: random.Random, tmp: Path) -> dict:
    app = create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_DIR": str(tmp / "uploads"),
        "SQLALCHEMY_ENGINE_OPTIONS": {}, "DEBUG": False,
    })
    with app.app_context():
        started = time.perf_counter()
        seed(n, rng)
        seeded = time.perf_counter() - started
        client = app.test_client()
        listing = measure(client, listing_urls(client), repeat)
        api = measure(client, ["/api/v1/products?limit=24", "/api/v1/products?limit=24&sort=price_desc"], repeat)
        found = measure(client, [f"/products?q={q}" for q in SEARCHES], repeat)
        db.session.remove()
        db.engine.dispose()
    return {"n": n, "seed_s": seeded, "listing": listing, "api": api, "search": found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for backend in args.backends.split(","):
        for n in sizes:
            rng = random.Random(42)
            with tempfile.TemporaryDirectory() as tmp:
                tmp = Path(tmp)
                if backend == "sqlite":
                    result = run(f"sqlite:///{tmp / 'bench.sqlite3'}", n, args.repeat, rng, tmp)
                else:
                    with throwaway_database(args.pg, "bench_catalog") as url:
                        result = run(url, n, args.repeat, rng, tmp)
            result["backend"] = backend
            rows.append(result)
            print(f"{backend} {n}: listing p50 {result['listing'][0]:.1f} ms p95 {result['listing'][1]:.1f} ms, "
                  f"search p50 {result['search'][0]:.1f} ms p95 {result['search'][1]:.1f} ms", file=sys.stderr)

    print("| database | products | listing page p50 / p95 (ms) | API list p50 / p95 (ms) | search page p50 / p95 (ms) | seeding (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['backend']} | {r['n']:,} | {r['listing'][0]:.1f} / {r['listing'][1]:.1f} | "
              f"{r['api'][0]:.1f} / {r['api'][1]:.1f} | {r['search'][0]:.1f} / {r['search'][1]:.1f} | {r['seed_s']:.0f} |")
    for backend in args.backends.split(","):
        mine = [r for r in rows if r["backend"] == backend]
        if len(mine) > 1:
            ratio = mine[-1]["listing"][0] / mine[0]["listing"][0]
            print(f"\n{backend}: listing p50 at {mine[-1]['n']:,} / at {mine[0]['n']:,} = {ratio:.2f}x")


if __name__ == "__main__":
    main()
