"""Security headers (CSP and friends) on every response."""
from __future__ import annotations

from flask import Flask


def content_security_policy(app: Flask) -> str:
    form_action = " ".join(["'self'", *app.config["CSP_EXTRA_FORM_ACTION"]])
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


def init_app(app: Flask) -> None:
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
