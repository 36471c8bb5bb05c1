"""`make run`: mails to the outbox shown at /dev/outbox, links at the address being served."""
import os

DEBUG = True  # for create_app() called directly; `flask run` sets it from --debug or FLASK_DEBUG
DEV_OUTBOX_ENABLED = True


def _served_at() -> str:
    """Where `flask run` serves (FLASK_RUN_HOST / FLASK_RUN_PORT, its own defaults otherwise):
    the links in mails and QR codes must open on this machine. SERVER_BASE_URL in the
    environment wins (`make run` sets it from PORT)."""
    host = os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # noqa: S104 - every interface: this machine answers on 127.0.0.1
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('FLASK_RUN_PORT') or 5000}"


SERVER_BASE_URL = _served_at()
