"""A seller imports its products from a spreadsheet: 5,000 lines, CSV as French Excel saves it
(Windows-1252, semicolons, decimal commas) and XLSX, through the pages, on PostgreSQL (or an
SQLite file).

    .venv/bin/python bench/product_import_bench.py [--size 5000] [--repeat 3] [--pg URL | --sqlite]

A throw-away database gets the migrations and a seller with its manager. One import is three
requests through the Flask test client, each one unit of work committed at its end:
- upload: POST the file (read once, kept on the server under a token);
- preview: GET the preview page (read again, every line checked against the seller's products);
- apply: POST (read and checked again, the products written with their "import" movements and
  their search index).
Each run creates 5,000 new products (new references); after the first one, the seller's export
(those 5,000) is imported back (every line checked, nothing to change).
"""
from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import bench_seller, migrate  # noqa: E402
from pg import throwaway_database  # noqa: E402

WORDS = ["Lampe", "Chaise", "Vélo", "Bol", "Théière", "Manteau", "Livre", "Jeu", "Commode",
         "Poêle", "Écharpe", "Pull"]
CATEGORIES = ["Décoration et linge", "Meubles", "Vélos", "Cuisine et vaisselle", "Femme",
              "Romans", "Jouets et jeux"]
HEADER = ["Référence", "Titre", "Description", "Catégorie", "Prix (€)", "TVA (%)", "Stock",
          "Périssable"]


def rows(n: int, run: int):
    for i in range(n):
        yield (f"R{run}-{i:05d}", f"{WORDS[i % len(WORDS)]} d'occasion n°{i}",
               "Bon état, révisé par l'atelier.", CATEGORIES[i % len(CATEGORIES)],
               f"{1 + i % 90},{i % 100:02d}", "20" if i % 3 else "5,5", str(i % 7), "non")


def csv_file(n: int, run: int) -> bytes:
    lines = [";".join(HEADER)] + [";".join(row) for row in rows(n, run)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def xlsx_file(n: int, run: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for ref, title, text, category, price, vat, stock, perishable in rows(n, run):
        sheet.append([ref, title, text, category, float(price.replace(",", ".")),
                      float(vat.replace(",", ".")), int(stock), perishable])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def one_import(client, org_id: int, data: bytes, filename: str, expect: str) -> dict:
    steps = {}
    cpu = time.process_time()
    start = time.perf_counter()
    response = client.post(f"/orgs/{org_id}/products/import", content_type="multipart/form-data",
                           data={"spreadsheet": (io.BytesIO(data), filename)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    token = re.search(r"/import/([\w-]+)", response.headers["Location"]).group(1)
    steps["upload"] = time.perf_counter() - start
    start = time.perf_counter()
    response = client.get(f"/orgs/{org_id}/products/import/{token}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Aucun problème trouvé." in text, text[:3000]
    assert expect in text, expect
    steps["preview"] = time.perf_counter() - start
    start = time.perf_counter()
    response = client.post(f"/orgs/{org_id}/products/import/{token}")
    assert response.status_code == 302, response.status_code
    steps["apply"] = time.perf_counter() - start
    steps["cpu"] = time.process_time() - cpu  # this process's CPU (the app's Python side)
    return steps


def round_trip(client, org_id: int) -> None:
    exported = client.get(f"/orgs/{org_id}/products/export.csv").data
    count = exported.count(b"\r\n") - 1
    steps = one_import(client, org_id, exported, "export.csv", f"inchangés\u00a0: {count}")
    total = steps["upload"] + steps["preview"] + steps["apply"]
    print(f"{count:>6} csv  export imported back (nothing to change): "
          f"{total:.2f} s (upload {steps['upload']:.2f}, preview "
          f"{steps['preview']:.2f}, apply {steps['apply']:.2f}; app CPU {steps['cpu']:.2f} s)",
          flush=True)


def run(database_url: str, size: int, repeat: int) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "marketplace:create_app"}
    migrate(env)
    from marketplace import create_app
    from marketplace.accounts import sessions
    from marketplace.accounts.models import User
    from marketplace.accounts.services import hash_password
    from marketplace.db import db, utcnow
    from marketplace.organizations.models import Membership, Role

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url,
                                           "BABEL_DEFAULT_LOCALE": "fr"})
    with app.app_context():
        seller = bench_seller("Ressourcerie du banc d'essai")
        manager = User(email="manager@bench.example.org", name="Karim", locale="fr",
                       password_hash=hash_password("x" * 12), email_verified_at=utcnow())
        db.session.add(manager)
        db.session.flush()
        db.session.add(Membership(organization=seller, user=manager, role=Role.MANAGER))
        key = sessions.start_session(manager, remembered=False, user_agent="bench")
        db.session.commit()
        org_id = seller.id
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key
        for kind in ("csv", "xlsx"):
            timings = []
            for attempt in range(repeat):
                run_id = attempt + (0 if kind == "csv" else 100)
                data = csv_file(size, run_id) if kind == "csv" else xlsx_file(size, run_id)
                timings.append(one_import(client, org_id, data, f"produits.{kind}",
                                          f"Nouveaux produits\u00a0: {size}"))
                if kind == "csv" and attempt == 0:
                    round_trip(client, org_id)  # the seller has these products only
            totals = [t["upload"] + t["preview"] + t["apply"] for t in timings]
            best = timings[min(range(len(timings)), key=lambda i: totals[i])]
            print(f"{size:>6} {kind:4} {len(data) / 1024:6.0f} KiB  new products: median "
                  f"{statistics.median(totals):.2f} s (best {min(totals):.2f} s: upload "
                  f"{best['upload']:.2f}, preview {best['preview']:.2f}, apply "
                  f"{best['apply']:.2f}; app CPU {best['cpu']:.2f} s)", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get(
        "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--sqlite", action="store_true", help="an SQLite file instead")
    args = parser.parse_args()
    if args.sqlite:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.size, args.repeat)
        return
    with throwaway_database(args.pg, "bench_product_import") as url:
        run(url, args.size, args.repeat)


if __name__ == "__main__":
    main()
