"""Links to a shopper's order: the signed key that lets a guest open it, absolute URLs for emails."""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer

# Its own salt: a key made for an order link is accepted for nothing else, and no other
# signed value of the site opens an order.
GUEST_LINK_SALT = "orders.guest-link"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=GUEST_LINK_SALT)


def _payload(order) -> list:
    # The creation time too: a database started afresh (a demo, a test server) reuses the
    # references, and an old email's link must not open someone else's order.
    return [order.reference, int(order.created_at.timestamp())]


def order_key(order) -> str:
    """The key that opens this order's page without an account (it never expires: it is the
    guest's only way back to their order)."""
    return _serializer().dumps(_payload(order))


def key_opens(order, key: str | None) -> bool:
    if not key or not order.reference or len(key) > 200:
        return False
    try:
        payload = _serializer().loads(key)
    except BadSignature:
        return False
    return (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], str)
        and hmac.compare_digest(payload[0], order.reference)
        and payload[1] == int(order.created_at.timestamp())
    )


def external_url(endpoint: str, **values) -> str:
    """An absolute URL, also outside a request (CLI, background jobs): SERVER_BASE_URL then."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return public_url(endpoint, **values)


def public_url(endpoint: str, **values) -> str:
    """A page at the site's public address (SERVER_BASE_URL), whatever host the request came
    through: the same URL in the email, on the page and on the PDF (QR codes, Stripe)."""
    base = urlsplit(current_app.config["SERVER_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def order_link(order, *, external: bool = True) -> str:
    """The order page with its key: what the confirmation email links to."""
    if external:
        return external_url("orders.order", reference=order.reference, key=order_key(order))
    return url_for("orders.order", reference=order.reference, key=order_key(order))
