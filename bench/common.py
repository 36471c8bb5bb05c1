"""What the HTTP benchmarks share: the migrated throw-away database with one seller, counter
volunteers, gunicorn started and stopped, a logged-in staff client, CPU read from /proc."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "banc d'essai solidaire"
CSRF_TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
SESSION_COOKIE = re.compile(rb"\r\nset-cookie: (ess_session=[^;\r]*)", re.IGNORECASE)


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


def bench_works_council():
    """A works council and its owner, the officer (flushed), in an app context: (officer, cse)."""
    from marketplace.accounts.models import User
    from marketplace.accounts.services import hash_password
    from marketplace.db import db, utcnow
    from marketplace.organizations.models import (
        EssStatus,
        Membership,
        Organization,
        OrganizationKind,
        OrganizationStatus,
        Role,
    )

    officer = User(email="officer@bench.example.org", name="Nadia", locale="fr",
                   password_hash=hash_password("x" * 12), email_verified_at=utcnow())
    cse = Organization(kind=OrganizationKind.WORKS_COUNCIL, status=OrganizationStatus.APPROVED,
                       name="CSE du banc d'essai", slug="cse-bench", siret="55210055400013",
                       address_line="1 rue A", postcode="69001", town="Lyon",
                       ess_status=EssStatus.WORKS_COUNCIL, description="")
    db.session.add_all([officer, cse])
    db.session.flush()
    db.session.add(Membership(organization=cse, user=officer, role=Role.OWNER))
    db.session.flush()
    return officer, cse


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


class StaffClient:
    """A counter volunteer's browser: one connection (opened again when the server closed it),
    the session cookie, and the CSRF token of `page` (read after logging in with the form)."""

    def __init__(self, port: int, email: str, page: str):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = None
        _, login = self.request("GET", "/login")
        self.csrf = CSRF_TOKEN.search(login).group(1).decode()
        response, _ = self.request("POST", "/login", form={
            "csrf_token": self.csrf, "email": email, "password": PASSWORD})
        assert response.status == 302, f"login failed: {response.status}"
        _, html = self.request("GET", page)
        self.csrf = CSRF_TOKEN.search(html).group(1).decode()

    def request(self, method: str, path: str, *, form=None, json_body=None):
        """(response, body bytes); a form is url-encoded, a JSON body carries the CSRF header."""
        headers = {"Host": "127.0.0.1"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            data = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = self.csrf
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):  # an idle keep-alive closed
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        payload = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("ess_session="):
                self.cookie = value.split(";")[0]
        return response, payload

    def post_json(self, path: str, payload: dict) -> tuple[int, bytes]:
        """(status, body) of a JSON POST carrying the CSRF header, the way the express
        benchmarks send their requests: written and read on a socket of its own, which the
        server closes after its answer (as a sync worker does anyway). This client shares the
        machine's cores with the server it measures; http.client's parsing cost it three times
        more CPU per request than the request itself needs (bench/RESULTS.md)."""
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
                f"X-CSRFToken: {self.csrf}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        chunks = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(head + body)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        headers, _, answer = b"".join(chunks).partition(b"\r\n\r\n")
        cookie = SESSION_COOKIE.search(headers)
        if cookie:
            self.cookie = cookie.group(1).decode()
        return int(headers[9:12]), answer


def in_process_client():
    """For the profiles: the app (production config, DATABASE_URL from the environment), its
    test client speaking https, and the list every SQL statement it runs is appended to.
    Returns (client, base_url, statements)."""
    import sqlalchemy as sa

    from marketplace import create_app
    from marketplace.db import db

    app = create_app("production")
    statements: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda conn, cursor, stmt, *a: statements.append(stmt))
    client = app.test_client()
    base = "https://127.0.0.1"
    client.environ_base["HTTP_REFERER"] = base + "/"  # CSRF checks the referrer over https
    return client, base, statements


def add_server_arguments(parser) -> None:
    """The gunicorn layout of every HTTP benchmark. The default is the README's deployment:
    4 sync workers (2 per core), one request at a time each, every connection closed after its
    response (a proxy such as nginx keeps the clients' connections). Requests then queue in
    the kernel and go to whichever worker is free: tight tails. gthread workers keep each
    client's keep-alive connection, so the clients fall unevenly on the workers (RESULTS.md)."""
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--keep-alive", type=int, default=30,
                        help="gthread's keep-alive seconds; 0 closes each connection")


def server_layout(args) -> str:
    if args.worker_class == "sync":
        return f"{args.workers} sync workers"
    return (f"{args.workers} gthread workers x {args.threads} threads, keep-alive "
            f"{args.keep_alive} s")


def start_gunicorn(env: dict, port: int, args) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:`port` in the layout of `args`
    (add_server_arguments), once it answers."""
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--worker-class", args.worker_class, "--threads", str(args.threads),
         "--keep-alive", str(args.keep_alive),
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

