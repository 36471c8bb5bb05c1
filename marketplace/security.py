"""Security headers (CSP and friends) on every response."""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, abort, request


def content_security_policy(app: Flask) -> str:
    return _policy(tuple(app.config["CSP_EXTRA_FORM_ACTION"]))


@lru_cache(maxsize=8)
def _policy(extra_form_actions: tuple[str, ...]) -> str:
    """Built once per configuration, not for every response."""
    form_action = " ".join(["'self'", *extra_form_actions])
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "media-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": form_action,
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _refuse_nul_bytes():
    """A NUL byte in a path, query or form is never legitimate and PostgreSQL refuses it in
    text: answer 400 here rather than a database error later. The JSON API checks its own
    parameters (a JSON 400 naming the parameter)."""
    if request.path.startswith("/api/"):
        return
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400)
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ) and any("\x00" in value for value in request.form.values()):
        abort(400)


def private(response):
    """A page whose URL is the key to something (a voucher, a gift card): no shared cache keeps
    it, no referrer carries the URL away, no search engine lists it. The browser still sends the
    site's origin (never the page's address): over https, Flask-WTF refuses a form posted without
    a Referer, and these pages have forms (logout, language, the card's gift and claim)."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul_bytes)

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(app))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["HSTS_SECONDS"]:
            headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if response.mimetype == "text/html":
            # Pages may show personal data: never store them in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        return response
