"""Stripe webhook events, once the signature was checked: each event id is stored once.

The event is applied first and stored after: every handler is idempotent (fulfilment re-reads
the session from Stripe and locks the order), so two concurrent deliveries of one event apply
it once, and an event that failed half-way is not marked as seen (Stripe sends it again).
"""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import refunds, services
from marketplace.payments.models import PaymentEvent

log = logging.getLogger(__name__)

GATEWAY = "stripe"
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
ENDED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


class MalformedEvent(ValueError):
    """The event was signed by Stripe but lacks what its type needs."""


def already_seen(event_id: str) -> bool:
    return db.session.scalar(
        sa.select(PaymentEvent.id).where(
            PaymentEvent.gateway == GATEWAY, PaymentEvent.event_id == event_id
        )
    ) is not None


def handle_event(event: dict[str, Any]) -> str:
    """Apply one verified event; returns what was done (for the response and the logs).

    Raises GatewayError or LockTimeout when it should be tried again later (the caller answers
    with a non-2xx status so Stripe redelivers)."""
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise MalformedEvent("event without id or type")
    if already_seen(event_id):
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    if event_type in PAID_EVENTS | ENDED_EVENTS and object_id is None:
        raise MalformedEvent(f"{event_type} without a session id")

    # A session no order of ours has (another shop on the account, a forged id) is recorded
    # and left alone: fulfilment looks the order up before it asks Stripe anything.
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else None
    if event_type in PAID_EVENTS:
        order = services.fulfil_checkout_session(object_id, metadata=metadata)
        result = "no order" if order is None else f"order {order.reference}: {order.status.value}"
    elif event_type in ENDED_EVENTS:
        # Re-read first: Stripe's word on the session counts, not the order of arrival.
        order = services.fulfil_checkout_session(object_id, metadata=metadata)
        if order is not None and order.status == OrderStatus.PENDING_PAYMENT:
            order = services.release_checkout_session(object_id, expire_remote=False)
        result = "no order" if order is None else f"order {order.reference}: {order.status.value}"
    elif event_type == "charge.refunded":
        result = _charge_refunded(obj)
    else:
        result = "ignored"
    _store(event_id, event_type, object_id)
    return result


def _charge_refunded(charge: dict[str, Any]) -> str:
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    amount = charge.get("amount_refunded")
    if not isinstance(intent, str) or not isinstance(amount, int) or not charge.get("id"):
        raise MalformedEvent("charge.refunded without payment_intent or amount_refunded")
    try:
        order = refunds.record_gateway_refund(
            payment_intent_id=intent, charge_id=str(charge["id"]), amount_refunded_cents=amount
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if order is None:
        return "no order"
    return f"order {order.reference}: {order.amount_refunded_cents} cents refunded"


def store_ignored(event: dict[str, Any]) -> None:
    """A signed event we cannot use (malformed): stored so its redeliveries stop here too."""
    event_id = event.get("id")
    if isinstance(event_id, str) and not already_seen(event_id):
        _store(event_id, str(event.get("type") or "?")[:100], None)


def _store(event_id: str, event_type: str, object_id: str | None) -> None:
    db.session.add(PaymentEvent(gateway=GATEWAY, event_id=event_id[:255], type=event_type[:100],
                                object_id=(object_id or None) and object_id[:255]))
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent delivery of the same event stored it first (and applied it: idempotent).
        db.session.rollback()
