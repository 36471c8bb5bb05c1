"""Sentry when SENTRY_DSN is set (marketplace/observability.py): an unhandled error of a request
reaches the DSN's server with its exception and the configuration's name as the environment,
and without the visitor's cookies (send_default_pii off). The app runs in a process of its
own (sentry_sdk.init is global to a process), and the server is a stand-in on 127.0.0.1 that
keeps what it is sent."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("sentry_sdk")


class _Sentry(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _events(envelopes: list[bytes]) -> list[dict]:
    """The error events of Sentry envelopes (a header line, then item header and payload lines)."""
    events = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


SCRIPT = textwrap.dedent("""
    import sys
    import sentry_sdk
    from marketplace import create_app

    app = create_app("testing", overrides={
        "SENTRY_DSN": sys.argv[1], "DATABASE_URL": "sqlite:///" + sys.argv[2],
        "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise ZeroDivisionError("the error Sentry must hear of")

    client = app.test_client()
    client.set_cookie("ess_session", "a-visitor-cookie-value", domain="localhost")
    print(client.get("/boom").status_code)
    sentry_sdk.flush(10)
""")


def test_an_unhandled_error_reaches_sentry_without_the_visitors_cookies(tmp_path):
    _Sentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{server.server_port}/42"
        run = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, "-c", SCRIPT, dsn, str(tmp_path / "db.sqlite3")], cwd=ROOT,
            env={**os.environ, "INSTANCE_PATH": str(tmp_path)}, capture_output=True, text=True,
            timeout=120)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "500"  # the visitor saw the error page
    events = _events(_Sentry.received)
    assert len(events) == 1, _Sentry.received
    event = events[0]
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ZeroDivisionError"
    assert exception["value"] == "the error Sentry must hear of"
    assert event["environment"] == "testing"
    assert event["request"]["url"].endswith("/boom")
    assert "a-visitor-cookie-value" not in json.dumps(event)


def test_a_dsn_without_the_sdk_says_how_to_install_it(tmp_path):
    script = textwrap.dedent("""
        import sys
        sys.modules["sentry_sdk"] = None  # as if it were not installed
        from marketplace import create_app
        try:
            create_app("testing", overrides={"SENTRY_DSN": "http://k@127.0.0.1:9/1",
                                             "DATABASE_URL": "sqlite:///" + sys.argv[1]})
        except RuntimeError as exc:
            print(exc)
    """)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "db.sqlite3")],  # noqa: S603
                         cwd=ROOT,
                         env={**os.environ, "INSTANCE_PATH": str(tmp_path)}, capture_output=True,
                         text=True, timeout=120)
    assert 'pip install -e ".[sentry]"' in run.stdout, run.stderr[-2000:]
