"""The restore drill of docs/deploy.md ("Backups"), run as operators are told to run it:
deploy/restore_check.sh backs a database holding the demo's orders, cards and payouts up with
deploy/backup.sh (pg_dump), restores the dump into a scratch database with deploy/restore.sh, and
compares every table's rows and the schema version; the scratch database is dropped after."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres


def _scratch_databases(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT datname FROM pg_database WHERE datname LIKE 'ess_restore_check_%'"
            )).scalars())
    finally:
        engine.dispose()


def test_a_backup_of_the_demo_restores_to_the_same_rows(empty_database_url, tmp_path):
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PostgreSQL's client tools are missing: {', '.join(missing)}")
    env = {**os.environ, "DATABASE_URL": empty_database_url, "FLASK_APP": "marketplace:create_app",
           "INSTANCE_PATH": str(tmp_path / "instance"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    flask = str(ROOT / ".venv" / "bin" / "flask")
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([flask, *command], env=env, cwd=ROOT, check=True,  # noqa: S603 - ours
                       capture_output=True, timeout=300)
    before = _scratch_databases(empty_database_url)

    drill = subprocess.run(["bash", "deploy/restore_check.sh", empty_database_url],  # noqa: S603,S607
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert drill.returncode == 0, drill.stdout[-2000:] + drill.stderr[-2000:]
    summary = re.search(r"restore check: (\d+) tables, (\d+) rows, identical", drill.stdout)
    assert summary, drill.stdout[-2000:]
    tables, rows = int(summary.group(1)), int(summary.group(2))
    engine = sa.create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            expected_tables = conn.execute(sa.text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
            orders = conn.execute(sa.text('SELECT count(*) FROM "order"')).scalar()
    finally:
        engine.dispose()
    assert tables == expected_tables and orders > 0 and rows > orders
    assert _scratch_databases(empty_database_url) == before  # the scratch copy is gone
