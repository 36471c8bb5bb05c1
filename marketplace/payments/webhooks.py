"""Stripe webhook events, once the signature was checked: each event id is stored once.

The event is stored first (INSERT ... ON CONFLICT DO NOTHING), then applied in a SAVEPOINT, in
the request's unit of work. A second delivery of the same event waits for the first one's unit
(PostgreSQL makes a concurrent insert of the same key wait) and finds it stored: a duplicate.
An event that could not be applied yet (the gateway unreachable, rows busy) answers 503 and
its unit rolls back, the stored id with it: Stripe sends it again. One our data refuses is
rolled back to the SAVEPOINT and stays stored (ignored: redeliveries stop).
"""
from __future__ import annotations

import logging
from typing import Any

from marketplace import uow
from marketplace.db import db, insert_on_conflict
from marketplace.orders.models import OrderStatus
from marketplace.payments import refunds, services
from marketplace.payments.models import PaymentEvent

log = logging.getLogger(__name__)

GATEWAY = "stripe"
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
ENDED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


class MalformedEvent(ValueError):
    """The event was signed by Stripe but lacks what its type needs."""


def handle_event(event: dict[str, Any]) -> str:
    """Apply one verified event; returns what was done (for the response and the logs).

    Raises GatewayError or LockTimeout when it should be tried again later (the caller answers
    with a non-2xx status so Stripe redelivers)."""
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise MalformedEvent("event without id or type")
    obj = (event.get("data") or {}).get("object") or {}
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    if event_type in PAID_EVENTS | ENDED_EVENTS and object_id is None:
        raise MalformedEvent(f"{event_type} without a session id")
    if not _store(event_id, event_type, object_id):
        return "duplicate"
    with uow.savepoint():  # a refusal leaves the event stored, and nothing else
        return _apply(event_type, object_id, obj)


def _apply(event_type: str, object_id: str | None, obj: dict[str, Any]) -> str:

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
    return result


def _charge_refunded(charge: dict[str, Any]) -> str:
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    amount = charge.get("amount_refunded")
    if not isinstance(intent, str) or not isinstance(amount, int) or not charge.get("id"):
        raise MalformedEvent("charge.refunded without payment_intent or amount_refunded")
    order = refunds.record_gateway_refund(
        payment_intent_id=intent, charge_id=str(charge["id"]), amount_refunded_cents=amount
    )
    if order is None:
        return "no order"
    return f"order {order.reference}: {order.amount_refunded_cents} cents refunded"


def store_ignored(event: dict[str, Any]) -> None:
    """A signed event we cannot use (malformed, refused): stored so its redeliveries stop here
    too (the request answers 200 and its unit commits)."""
    event_id = event.get("id")
    if isinstance(event_id, str):
        _store(event_id, str(event.get("type") or "?")[:100], None)


def _store(event_id: str, event_type: str, object_id: str | None) -> bool:
    """Store the event id unless it is there already: False for a repeat."""
    insert = insert_on_conflict(PaymentEvent.__table__)
    stmt = (
        insert.values(gateway=GATEWAY, event_id=event_id[:255], type=event_type[:100],
                      object_id=(object_id or None) and object_id[:255])
        .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
        .returning(PaymentEvent.id)
    )
    return db.session.execute(stmt).scalar_one_or_none() is not None
