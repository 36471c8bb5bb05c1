"""Absolute addresses of the site's pages: the one way to build a link that leaves the page
(emails, QR codes, PDFs, the payment gateway's return addresses, jobs, the CLI, the API).

The rule: SERVER_BASE_URL is the site's public address, always. A link never takes the host of
the request that caused it (a proxy's, a LAN address, another port), so the same link is in the
email, on the page, on the PDF and in the QR code, whether a request, a job or a command made
it. `make run` sets SERVER_BASE_URL to the address it serves.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` at SERVER_BASE_URL (url_for's arguments, `_anchor` too)."""
    anchor = values.pop("_anchor", None)
    base = urlsplit(current_app.config["SERVER_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
    return url


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site paths are followed after a form, never another host."""
    default = default or url_for("site.home")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
