"""Payments' pages: the Stripe webhook and the demo gateway's payment page."""
from __future__ import annotations

import logging

import stripe
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from marketplace.db import LockTimeout, db
from marketplace.errors import DomainError
from marketplace.extensions import csrf
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import services, webhooks
from marketplace.payments.demo_gateway import DemoGateway, is_open
from marketplace.payments.gateway import GatewayError
from marketplace.payments.models import DemoCheckoutSession, DemoSessionStatus

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)


# --- Stripe webhook --------------------------------------------------------------------------


def _answer(status: int, message: str, **extra):
    return jsonify({"status": status, "message": message, **extra}), status


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("A Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
        return _answer(400, "webhook secret not configured")
    payload = request.get_data()  # the raw body: the signature is computed on these bytes
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature"), secret,
            api_key=current_app.config.get("STRIPE_SECRET_KEY"),
        )
    except stripe.SignatureVerificationError:
        return _answer(400, "invalid signature")
    except Exception:  # noqa: BLE001 - not UTF-8, not JSON, not an event object
        return _answer(400, "invalid payload")
    event = event.to_dict()
    # One unit of work: a 503 answer rolls it back, the stored event id with it (Stripe sends
    # the event again); a 200 answer commits it.
    try:
        result = webhooks.handle_event(event)
    except webhooks.MalformedEvent as exc:
        log.warning("Stripe event %s ignored: %s", event.get("id"), exc)
        webhooks.store_ignored(event)
        return _answer(200, "ignored: malformed event")
    except GatewayError as exc:
        if exc.code == "resource_missing":  # a session Stripe does not know (another account?)
            log.warning("Stripe event %s: %s", event.get("id"), exc.detail)
            webhooks.store_ignored(event)
            return _answer(200, "not applied: unknown to Stripe")
        # Stripe unreachable, or refusing our key: the event is delivered again later.
        log.warning("Stripe event %s not applied yet: %s", event.get("id"), exc.detail)
        return _answer(503, "payment provider unavailable, try again")
    except LockTimeout:
        log.warning("Stripe event %s not applied yet: rows busy", event.get("id"))
        return _answer(503, "busy, try again")
    except DomainError as exc:
        # Our data refuses the event (an illegal status change...): logged, not retried forever.
        log.error("Stripe event %s (%s) refused: %s", event.get("id"), event.get("type"),
                  str(exc.message))
        webhooks.store_ignored(event)
        return _answer(200, "not applied", reason=str(exc.message))
    except SQLAlchemyError:
        log.exception("Stripe event %s: database error", event.get("id"))
        return _answer(503, "temporary error, try again")
    log.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), result)
    return _answer(200, "ok", result=result)


# --- demo gateway ----------------------------------------------------------------------------


def _demo_session(session_id: str) -> DemoCheckoutSession:
    if current_app.config.get("STRIPE_SECRET_KEY"):
        abort(404)  # with real payments configured, no one pays on the demo page
    row = db.session.get(DemoCheckoutSession, session_id, populate_existing=True)
    if row is None:
        abort(404)
    return row


@bp.get("/payments/demo/<session_id>")
def demo_checkout(session_id: str):
    row = _demo_session(session_id)
    order = db.session.get(Order, row.order_id)
    if row.status == DemoSessionStatus.COMPLETE:
        state = "paid"
    elif row.status == DemoSessionStatus.DECLINED:
        state = "declined"
    elif is_open(row) and order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
        state = "open"
    else:
        state = "ended"
    return render_template(
        "payments/demo_checkout.html", demo=row, order=order, state=state,
        cart_url=url_for("orders.cart"),
        success_url=services.success_url_for(order, row.id) if state == "paid" else None,
    )


@bp.post("/payments/demo/<session_id>/pay")
def demo_pay(session_id: str):
    row = _demo_session(session_id)
    if not DemoGateway().complete(row.id):
        flash(_("This demo payment has already ended."), "warning")
        return redirect(url_for("payments.demo_checkout", session_id=row.id))
    # Exactly what a Stripe webhook or the success page does.
    order = services.fulfil_checkout_session(row.id)
    return redirect(services.success_url_for(order, row.id))


@bp.post("/payments/demo/<session_id>/decline")
def demo_decline(session_id: str):
    row = _demo_session(session_id)
    if DemoGateway().decline(row.id):
        services.release_checkout_session(row.id, expire_remote=False, reason="payment_declined")
    return redirect(url_for("payments.demo_checkout", session_id=row.id))


@bp.post("/payments/demo/<session_id>/abandon")
def demo_abandon(session_id: str):
    row = _demo_session(session_id)
    order = db.session.get(Order, row.order_id)
    # Nothing changes: the hold ends by itself, as when a shopper closes Stripe's page.
    return redirect(services.checkout_urls(order)[1])
