"""What the HTTP benchmarks share: the migrated throw-away database with one seller, counter
volunteers, gunicorn started and stopped."""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "banc d'essai solidaire"


def migrate(env: dict) -> None:
    subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=ROOT)


def bench_app(database_url: str):
    from marketplace import create_app

    return create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url})


def bench_seller(name: str):
    """An approved association (flushed), in an app context."""
    from marketplace.db import db
    from marketplace.organizations.models import (
        EssStatus,
        Organization,
        OrganizationKind,
        OrganizationStatus,
    )

    org = Organization(kind=OrganizationKind.ASSOCIATION, status=OrganizationStatus.APPROVED,
                       name=name, slug="bench", rna="W691000001", address_line="1 rue A",
                       postcode="69001", town="Lyon", ess_status=EssStatus.ASSOCIATION,
                       description="")
    db.session.add(org)
    db.session.flush()
    return org


def counter_staff(org, count: int, *, prefix: str, name: str) -> list[str]:
    """`count` counter volunteers of `org` (password PASSWORD); their emails."""
    from marketplace.accounts.models import User
    from marketplace.accounts.services import hash_password
    from marketplace.db import db, utcnow
    from marketplace.organizations.models import Membership, Role

    password_hash = hash_password(PASSWORD)
    emails = []
    for i in range(count):
        user = User(email=f"{prefix}{i}@bench.example.org", name=f"{name} {i}",
                    password_hash=password_hash, email_verified_at=utcnow(), locale="fr")
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(organization=org, user=user, role=Role.COUNTER))
        emails.append(user.email)
    return emails


def start_gunicorn(env: dict, port: int, *, workers: int, threads: int,
                   worker_class: str = "gthread") -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:`port`, once it answers."""
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--worker-class", worker_class, "--threads", str(threads), "--keep-alive", "30",
         "--log-level", "warning", "marketplace:create_app()"],
        env=env, cwd=ROOT)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(1)
    return server


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    if server is None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


# --- CPU per request, read from /proc (Linux) -------------------------------------------

def process_cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_of(parent: int) -> list[int]:
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(pid))
        except OSError:
            continue
    return pids


def backends_of(database: str) -> list[int]:
    """The PostgreSQL backends serving clients of `database` (their process title names it)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read()
        except OSError:
            continue
        # Client backends only ("<user> <database> <host>(<port>)"), not an autovacuum worker
        # cleaning up after the seeding.
        if title.startswith(b"postgres: ") and re.search(
                rb" " + re.escape(database.encode()) + rb" (\d[\d.]*|\[local\])", title):
            pids.append(int(pid))
    return pids


def percentile(values, fraction):
    return values[min(len(values) - 1, int(len(values) * fraction))]
