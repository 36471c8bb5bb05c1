"""A live server and a headless Chromium (Debian's, driven by Playwright) for the browser tests.
Each test module skips itself when the browser is missing (see test_journey.py)."""
from __future__ import annotations

import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live(make_app):
    """The app served over HTTP from a thread, with CSRF on, as a browser meets it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(SERVER_NAME=None, SERVER_BASE_URL=base, WTF_CSRF_ENABLED=True,
                   STRIPE_SECRET_KEY=None, RATELIMIT_ENABLED=False)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with app.app_context():
            yield app, base
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()
