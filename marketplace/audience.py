"""Audience without trackers: the public pages' views counted on the server, as daily totals
per page and per referring domain. No cookie, nothing about the visitor is kept (not the
address, not the browser, not the page they came from: only that page's domain name), no
script, no third party. Known robots (by their user agent), HEAD requests and browsers'
prefetches are left out.

Which pages: the endpoints registered with `countable` (the product page, the shopfront). The
hook is an `after_request`, so it counts the answers the page cache (marketplace/caching.py)
gives before the view runs as well as the rendered ones: 200 and 304 answers (a browser
revalidating its copy is a view too).

Nothing is written on the request's path: a hit adds one to a counter in this process's
memory (a dict under a lock, about a microsecond). A thread of the process writes the counters
every AUDIENCE_FLUSH_SECONDS (5 s), sooner once AUDIENCE_FLUSH_AT hits are waiting, as one
`INSERT ... ON CONFLICT DO UPDATE` (adding to the day's row) in a transaction of its own;
what a process has not written when it dies is lost (a few seconds of counts). With
AUDIENCE_FLUSH_SECONDS = 0 (the tests) nothing is written until `flush()` is called.
Measured: bench/RESULTS.md ("Audience counting").
"""
from __future__ import annotations

import atexit
import enum
import functools
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import db, insert_on_conflict

log = logging.getLogger(__name__)

# What robots, link previews, monitors and command-line tools say they are (in the lower-cased
# user agent).
BOT_WORDS = (
    "bot", "crawl", "spider", "slurp", "archiver", "scraper", "facebookexternalhit", "embedly",
    "preview", "whatsapp", "telegram", "discord", "slack", "skype", "pinterest", "lighthouse",
    "pagespeed", "headless", "phantom", "pingdom", "uptime", "monitor", "statuscake", "semrush",
    "ahrefs", "mj12", "petal", "yandex", "baidu", "bytespider", "curl/", "wget/", "python-",
    "httpx", "aiohttp", "go-http", "java/", "okhttp", "libwww", "node-fetch", "axios", "wrk",
    "apachebench", "siege", "locust", "k6/", "feed", "rss",
)
DIRECT = ""  # no referrer (typed, bookmarked, or hidden by the browser)
INTERNAL = "."  # from a page of this site
_DOMAIN = re.compile(r"[a-z0-9.-]{1,100}")


class PageKind(enum.StrEnum):
    PRODUCT = "product"
    SHOPFRONT = "shopfront"


class PageViewDay(db.Model):
    """The views of one page on one day (UTC) from one referring domain."""

    __tablename__ = "page_view_day"
    __table_args__ = (
        sa.CheckConstraint("views > 0", name="views_positive"),
        sa.Index("ix_page_view_day_page", "kind", "object_id", "day"),
    )

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # a PageKind
    object_id: Mapped[int] = mapped_column(primary_key=True)  # the product's, the seller's id
    referrer: Mapped[str] = mapped_column(sa.String(100), primary_key=True)  # domain, DIRECT, INTERNAL
    views: Mapped[int]


@dataclass(frozen=True)
class Rule:
    kind: PageKind
    key: Callable[[dict], object]  # the page's key from the URL's arguments
    # Keys to ids, called at write time (e.g. a shopfront's slug to its seller's id).
    resolve: Callable[[set], dict] | None = None


_rules: dict[str, Rule] = {}


def countable(endpoint: str, kind: PageKind, *, key: Callable[[dict], object],
              resolve: Callable[[set], dict] | None = None) -> None:
    """Count the views of `endpoint`'s pages (see the module's docstring)."""
    _rules[endpoint] = Rule(kind, key, resolve)


@functools.lru_cache(maxsize=4096)
def referrer_domain(referrer: str | None, own_host: str) -> str:
    """The domain a visitor came from: DIRECT, INTERNAL, or a host name without "www."."""
    if not referrer:
        return DIRECT
    try:
        host = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return DIRECT
    if not host:
        return DIRECT
    if host == own_host.split(":")[0].lower():
        return INTERNAL
    host = host.removeprefix("www.")
    return host if _DOMAIN.fullmatch(host) else DIRECT


@functools.lru_cache(maxsize=4096)  # a few user agents make most visits
def is_bot(user_agent: str) -> bool:
    if not user_agent:
        return True
    agent = user_agent.lower()
    return any(word in agent for word in BOT_WORDS)


# Counting ---------------------------------------------------------------------------------

class _Counts:
    """This process's counts not yet written, and the thread that writes them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: Counter = Counter()
        self.hits = 0
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.wake = threading.Event()

    def take(self) -> Counter:
        with self.lock:
            batch, self.pending, self.hits = self.pending, Counter(), 0
        return batch


def _counts() -> _Counts:
    state = current_app.extensions["audience"]
    if state.pid != os.getpid():  # a forked worker: its own counts and thread
        state = current_app.extensions["audience"] = _Counts()
    return state


def _hook(app: Flask) -> Callable[[Response], Response]:
    """The after_request hook, bound to its app: it reads the WSGI environ and this process's
    state directly (no context-local lookups, no header parsing), ~2 µs a counted view."""
    extensions, config = app.extensions, app.config
    flushing = config["AUDIENCE_FLUSH_SECONDS"] > 0
    flush_at = config["AUDIENCE_FLUSH_AT"]

    def count(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        endpoint = req.endpoint
        rule = _rules.get(endpoint)  # type: ignore[arg-type]
        if rule is None or response.status_code not in (200, 304):
            return response
        environ = req.environ
        if (environ["REQUEST_METHOD"] != "GET" or is_bot(environ.get("HTTP_USER_AGENT", ""))
                or "prefetch" in environ.get("HTTP_SEC_PURPOSE", environ.get("HTTP_PURPOSE", ""))):
            return response
        try:
            key = rule.key(req.view_args or {})
        except (KeyError, TypeError, ValueError):
            return response
        entry = (_today(), endpoint, key,
                 referrer_domain(environ.get("HTTP_REFERER"), environ.get("HTTP_HOST", "")))
        state = extensions["audience"]
        if state.pid != os.getpid():  # a forked worker: its own counts and thread
            state = extensions["audience"] = _Counts()
        with state.lock:
            state.pending[entry] += 1
            state.hits += 1
            hits = state.hits
        if flushing:
            if state.thread is None:
                _start(app, state)
            elif hits >= flush_at:
                state.wake.set()
        return response

    return count


_day = [0, date.min]


def _today() -> date:
    """Today (UTC), computed once a day rather than at each view."""
    number = int(time.time() // 86400)
    if _day[0] != number:
        _day[:] = [number, datetime.fromtimestamp(number * 86400, UTC).date()]
    return _day[1]


def _start(app: Flask, state: _Counts) -> None:
    with state.lock:
        if state.thread is not None:
            return
        state.thread = threading.Thread(target=_run, args=(app, state), daemon=True,
                                        name="audience-flush")
    atexit.register(_flush_at_exit, app)
    state.thread.start()


def _run(app: Flask, state: _Counts) -> None:
    seconds = app.config["AUDIENCE_FLUSH_SECONDS"]
    while True:
        state.wake.wait(seconds)
        state.wake.clear()
        _flush_state(app, state)


def _flush_state(app: Flask, state: _Counts) -> int:
    batch = state.take()
    if not batch:
        return 0
    with app.app_context():
        try:
            return write(batch)
        except Exception:  # noqa: BLE001 - the database away: keep the counts for the next try
            log.exception("Could not write the page views; kept for the next try")
            with state.lock:
                if len(state.pending) < 100_000:
                    state.pending.update(batch)
            return 0


def flush() -> int:
    """Write this process's counts now (the tests, the end of a process); the rows written."""
    return _flush_state(current_app._get_current_object(), _counts())  # type: ignore[attr-defined]


def write(batch: Counter) -> int:
    """Add `batch` ({(day, endpoint, key, referrer): views}) to the daily rows, in a
    transaction of its own (not the request's unit of work)."""
    rows: Counter = Counter()
    by_endpoint: dict[str, set] = {}
    for (_day, endpoint, key, _referrer) in batch:
        by_endpoint.setdefault(endpoint, set()).add(key)
    ids = {endpoint: (_rules[endpoint].resolve(keys) if _rules[endpoint].resolve else
                      {key: key for key in keys})
           for endpoint, keys in by_endpoint.items() if endpoint in _rules}
    for (day, endpoint, key, referrer), views in batch.items():
        object_id = ids.get(endpoint, {}).get(key)
        if object_id is not None:
            rows[(day, _rules[endpoint].kind.value, int(object_id), referrer)] += views
    if not rows:
        return 0
    values = [{"day": day, "kind": kind, "object_id": object_id, "referrer": referrer,
               "views": views} for (day, kind, object_id, referrer), views in sorted(rows.items())]
    with db.engine.begin() as connection:
        connection.execute(_upsert(connection.dialect.name), values)
    return len(values)


def _upsert(dialect: str):
    table = PageViewDay.__table__
    statement = insert_on_conflict(table, dialect)
    return statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.kind, table.c.object_id, table.c.referrer],
        set_={"views": table.c.views + statement.excluded.views})


def _flush_at_exit(app: Flask) -> None:
    state = app.extensions.get("audience")
    if state is not None and state.pid == os.getpid():
        try:
            _flush_state(app, state)
        except Exception:  # noqa: BLE001 - exiting anyway
            log.exception("Page views lost at exit")


def init_app(app: Flask) -> None:
    app.config.setdefault("AUDIENCE_FLUSH_SECONDS", 5)
    app.config.setdefault("AUDIENCE_FLUSH_AT", 5000)
    app.extensions["audience"] = _Counts()
    if app.config.setdefault("AUDIENCE_ENABLED", True):  # off: bench/audience_bench.py's "before"
        app.after_request(_hook(app))
