"""Links to a shopper's order: the signed key that lets a guest open it, and the order's link."""
from __future__ import annotations

import hmac

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.urls import external_url

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


def order_link(order, *, external: bool = True) -> str:
    """The order page with its key: what the confirmation email links to."""
    if external:
        return external_url("orders.order", reference=order.reference, key=order_key(order))
    return url_for("orders.order", reference=order.reference, key=order_key(order))
