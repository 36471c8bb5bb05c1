"""The public catalogue's shared page cache (Flask-Caching: Redis when REDIS_URL is set, else
one cache per process).

Which answers: the endpoints registered with `cacheable` (home, products, product, shopfront,
the API's products), for GET and HEAD only, 200 answers only. HTML pages only for a visitor
whose session holds nothing of their own but a CSRF secret: no login (Flask-Login's user in
the session or the remember-me cookie), no cart (orders.cart's token), no flashed message.
Every one of those is rendered by the base template, and a request that has any of them is
rendered as usual and never stored. The API's answers are the same for everyone: any request.

The key: the endpoint's variant (the page's language: the `lang` cookie or the default; the
API's `?lang=` or Accept-Language) and the full path with its query string. An entry holds
the catalogue version it was made under; `catalog_changed()` (called by the catalogue's
services when a seller changes a product, and when a seller's details change) moves the
version on after the commit, and every older entry is dead: at once in the process that made
the change, within CATALOG_CACHE_LOCAL_SECONDS (1 s) in every other process of every node. Stock
sold, held or given back by checkouts and payments does not move it (it would empty the cache
at every checkout): entries live CATALOG_CACHE_SECONDS (5 s), so the stock shown is at most
that stale, and the checkout re-checks the stock under its lock anyway.

The one per-visitor thing left in such a page is the CSRF token of its forms (language switch,
add to cart): the stored page is cut where the token that rendered it stood, and the token of
the visitor who gets it is put back in at serve time (Flask-WTF's generate_csrf, which gives a
new visitor their CSRF secret in the session cookie, as rendering the page would).

The lookup is the second before_request hook (after observability's): a hit answers with no
database access, no user, no template, no translation. With Redis, each process also keeps
the entries it read or made, and the version it read less than CATALOG_CACHE_LOCAL_SECONDS
ago: most hits then cost no round trip to Redis either (measured: bench/RESULTS.md). The answers carry an ETag (and the
API a Last-Modified); If-None-Match gets a 304. HTML answers are `private, no-cache` (the
browser may keep the page of its own visitor and revalidate it), the API `public, no-cache`.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_caching import Cache

from marketplace import uow
from marketplace.i18n import LANG_COOKIE

log = logging.getLogger(__name__)

cache = Cache()

VERSION_KEY = "catalog:version"
# What an anonymous visitor's session may hold: the CSRF secret, and Flask-Login's note that
# it holds no fresh login (written when a request looked for a user and found none).
SESSION_KEYS_ALLOWED = frozenset({"csrf_token", "_fresh"})
LOCAL_MAX_ENTRIES = 2000  # per process
CSRF_WINDOW_SECONDS = 3600  # an HTML ETag changes at least this often (the token's age inside)
_STATE = "_page_cache"


@dataclass(frozen=True)
class Rule:
    variant: Callable[[], str]  # e.g. the language of the answer
    anonymous_only: bool  # HTML pages: never for a session that holds more than a CSRF secret
    locale_is_forced: bool  # the variant is the locale to force on a hit (g.forced_locale)


_rules: dict[str, Rule] = {}


def cacheable(endpoint: str, *, variant: Callable[[], str], anonymous_only: bool = True,
              forced_locale: bool = False) -> None:
    """Serve `endpoint` from the shared cache as described above."""
    _rules[endpoint] = Rule(variant, anonymous_only, forced_locale)


def enabled() -> bool:
    return current_app.config["CATALOG_CACHE_SECONDS"] > 0


# Invalidation -------------------------------------------------------------------------------

def catalog_changed() -> None:
    """Something every visitor sees changed (a product, a seller's page): once this unit of
    work has committed, every cached page and API answer is dead (on every node). Nothing if
    it rolls back. Outside a unit (a test or a shell calling a service), at once."""
    if uow.active():
        uow.after_commit(_bump)  # called twice in a unit, the version moves twice: harmless
    else:
        _bump()


def _bump() -> None:
    try:
        version = cache.cache.inc(VERSION_KEY)  # atomic on Redis (INCR); stored without expiry
        local = _local()
        if local["seconds"] and version is not None:  # this process sees it at once
            local.update(version=version, checked=time.time())
    except Exception:  # noqa: BLE001 - a cache down must not fail the seller's change
        log.exception("Could not invalidate the catalogue cache")


# Serving ----------------------------------------------------------------------------------

def visitor_language() -> str:
    """The language of an anonymous visitor's pages (i18n.select_locale without a user)."""
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in current_app.config["LANGUAGES"]:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _anonymous() -> bool:
    if request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"]):
        return False
    return set(session.keys()) <= SESSION_KEYS_ALLOWED


def _key(variant: str) -> str:
    path = request.path
    query = request.query_string
    raw = f"{request.endpoint}|{variant}|{path}?".encode() + query
    return "page:" + hashlib.sha256(raw).hexdigest()[:40]


def _visitor_tag() -> str:
    """What an HTML ETag adds to the content's hash: the visitor's CSRF secret and the hour,
    so that a page kept by a browser is never revalidated for another session, nor once the
    token in it has grown too old."""
    secret = session.get("csrf_token", "")
    window = int(time.time() // CSRF_WINDOW_SECONDS)
    return hashlib.sha256(f"{secret}|{window}".encode()).hexdigest()[:12]


def _serve_from_cache():
    if request.method not in ("GET", "HEAD"):
        return None
    rule = _rules.get(request.endpoint)
    if rule is None or not enabled():
        return None
    if rule.anonymous_only and not _anonymous():
        return None
    variant = rule.variant()
    if rule.locale_is_forced:
        g.forced_locale = variant
    key = _key(variant)
    now = time.time()
    ttl = current_app.config["CATALOG_CACHE_SECONDS"]
    local = _local()
    entry = None
    if now - local["checked"] < local["seconds"]:  # this process knows the version well enough
        version = local["version"]
        entry = local["entries"].get(key)
    if entry is None:
        try:
            version, entry = cache.get_many(VERSION_KEY, key)
        except Exception:  # noqa: BLE001 - no cache: render as usual
            log.exception("Catalogue cache unreachable")
            return None
        version = version or 0
        if local["seconds"]:
            local.update(version=version, checked=now)
            if entry is not None:
                _keep_locally(local, key, entry, now, ttl)
    g.setdefault(_STATE, {}).update(key=key, version=version, rule=rule)
    if entry is None or entry["version"] != version or now - entry["created"] >= ttl:
        return None
    return _answer(entry, rule)


def _local() -> dict:
    """This process's copies (CATALOG_CACHE_LOCAL_SECONDS, with a shared cache): the version
    as read from the shared cache less than that long ago, and the entries read or made here.
    A hit then costs no round trip to Redis; another node's invalidation is seen at the next
    read of the version, within that many seconds."""
    return current_app.extensions["page_cache_local"]


def _keep_locally(local: dict, key: str, entry: dict, now: float, ttl: float) -> None:
    entries = local["entries"]
    if len(entries) >= LOCAL_MAX_ENTRIES:
        for old in [k for k, e in entries.items() if now - e["created"] >= ttl]:
            del entries[old]
        if len(entries) >= LOCAL_MAX_ENTRIES:
            entries.clear()
    entries[key] = entry


def _answer(entry: dict, rule: Rule) -> Response:
    html = rule.anonymous_only
    token = None
    if html:
        from flask_wtf.csrf import generate_csrf

        token = generate_csrf()  # first: a new visitor's secret is part of the ETag
    etag = entry["tag"] + ("-" + _visitor_tag() if html else "")
    if request.if_none_match.contains(etag) or (
            not html and request.if_modified_since is not None
            and int(entry["created"]) <= request.if_modified_since.timestamp()):
        response = Response(status=304)
    else:
        parts = entry["parts"]
        body = token.encode().join(parts) if token else b"".join(parts)
        response = Response(body, mimetype=entry["mimetype"])
    _cache_headers(response, etag, entry["created"], html)
    response.headers["X-Cache"] = "hit"
    g.get(_STATE, {})["served"] = True
    return response


def _cache_headers(response: Response, etag: str, created: float, html: bool) -> None:
    response.set_etag(etag)
    if html:
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
    else:
        response.headers["Cache-Control"] = "public, no-cache"
        response.last_modified = int(created)


def _store(response: Response) -> Response:
    state = g.get(_STATE)
    if not state or state.get("served") or response.status_code != 200:
        return response
    if response.direct_passthrough or response.is_streamed:
        return response
    rule = state["rule"]
    if rule.anonymous_only and not _anonymous():  # the page gave itself a cart, a message...
        return response
    if "Set-Cookie" in response.headers and not rule.anonymous_only:
        return response
    body = response.get_data()
    token = g.get("csrf_token")
    parts = body.split(token.encode()) if token and rule.anonymous_only else [body]
    now = time.time()
    entry = {
        "version": state["version"], "created": now, "mimetype": response.mimetype,
        "parts": parts, "tag": hashlib.sha256(b"\0".join(parts)).hexdigest()[:20],
    }
    local = _local()
    if local["seconds"]:
        _keep_locally(local, state["key"], entry, now, current_app.config["CATALOG_CACHE_SECONDS"])
    try:
        cache.set(state["key"], entry, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
    except Exception:  # noqa: BLE001 - the answer is good; only the cache is missing
        log.exception("Catalogue cache unreachable")
        return response
    html = rule.anonymous_only
    etag = entry["tag"] + ("-" + _visitor_tag() if html else "")
    _cache_headers(response, etag, now, html)
    response.headers["X-Cache"] = "miss"
    if request.if_none_match.contains(etag):
        response.status_code = 304
        response.set_data(b"")
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("CATALOG_CACHE_SECONDS", 5)
    redis_url = app.config.get("REDIS_URL")
    if app.config.get("CACHE_TYPE") is None:
        app.config["CACHE_TYPE"] = "RedisCache" if redis_url else "SimpleCache"
    if redis_url:
        app.config.setdefault("CACHE_REDIS_URL", redis_url)
    app.config.setdefault("CACHE_KEY_PREFIX", "ess:")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 0)  # the version never expires; pages do
    cache.init_app(app)
    shared = app.config["CACHE_TYPE"] not in ("SimpleCache", "NullCache")
    local_seconds = app.config.setdefault("CATALOG_CACHE_LOCAL_SECONDS", 1) if shared else 0
    app.extensions["page_cache_local"] = {"seconds": local_seconds, "version": 0,
                                          "checked": 0.0, "entries": {}}
    app.after_request(_store)


def install_lookup(app: Flask) -> None:
    """The lookup, as early as can be: right after observability's hook (request id,
    metrics), before the unit of work, CSRF, throttling and everything else. Called once every
    extension has registered its hooks."""
    hooks = app.before_request_funcs.setdefault(None, [])
    position = next((i + 1 for i, hook in enumerate(hooks)
                     if getattr(hook, "__module__", None) == "marketplace.observability"), 0)
    hooks.insert(position, _serve_from_cache)
