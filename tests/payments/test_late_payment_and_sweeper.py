"""Holds that end: the sweeper, payments that arrive too late, and the reconciliation that
finds payments whose webhook never came."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import Refund, RefundStatus
from tests.factories import make_product
from tests.payments.fake_stripe import event, signed
from tests.payments.helpers import (
    active_holds,
    end_hold,
    in_unit,
    make_seller,
    place_order,
    reload,
    sales_of,
    stock_of,
)

pytestmark = pytest.mark.english


def deliver(client, evt):
    body, headers = signed(evt)
    return client.post("/payments/stripe/webhook", data=body, headers=headers)


def open_order(product, quantity=1, **kwargs):
    order = place_order([(product, quantity)], **kwargs)
    session = services.start_payment(order)
    db.session.commit()
    return order, session.id


def test_the_sweeper_releases_ended_holds_and_ends_their_sessions(app, fake_stripe):
    seller = make_seller()
    lamp = make_product(seller.organization, stock=3)
    order, session_id = open_order(lamp, 2)
    kept, _ = open_order(lamp, 1, email="other@example.org")
    end_hold(order)

    assert in_unit(services.expire_stale_orders) == 1
    order = reload(order)
    assert order.status == OrderStatus.EXPIRED and active_holds(order) == 0
    assert reload(kept).status == OrderStatus.PENDING_PAYMENT
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert len(fake_stripe.calls_to("post", f"/v1/checkout/sessions/{session_id}/expire")) == 1
    assert in_unit(services.expire_stale_orders) == 0  # safe to run twice


def test_the_sweeper_as_a_command(app, fake_stripe):
    seller = make_seller()
    order, _ = open_order(make_product(seller.organization, stock=3))
    end_hold(order)
    result = app.test_cli_runner().invoke(args=["payments", "expire-holds"])
    assert result.exit_code == 0, result.output
    assert "1 unpaid order(s) released." in result.output
    assert reload(order).status == OrderStatus.EXPIRED


def test_a_session_paid_just_before_the_sweeper_is_still_fulfilled(app, client, fake_stripe, outbox):
    seller = make_seller()
    lamp = make_product(seller.organization, stock=3)
    order, session_id = open_order(lamp, 1)
    fake_stripe.pay(session_id)
    end_hold(order)
    assert in_unit(services.expire_stale_orders) == 1  # Stripe refuses to expire a paid session: fine
    deliver(client, event("checkout.session.completed", dict(fake_stripe.sessions[session_id])))
    order = reload(order)
    assert order.status == OrderStatus.PAID  # the goods were still there: re-reserved and sold
    assert stock_of(lamp) == 2 and sales_of(lamp) == 1
    assert len([m for m in outbox if "is confirmed" in m.subject]) == 1


def test_a_late_payment_for_goods_sold_meanwhile_is_refunded(app, client, fake_stripe, outbox):
    seller = make_seller()
    lamp = make_product(seller.organization, title="Lampe", price_cents=1500, stock=1)
    late, late_session = open_order(lamp, 1, email="late@example.org")
    fake_stripe.pay(late_session)  # paid on Stripe's page... but the webhook is slow
    end_hold(late)
    in_unit(services.expire_stale_orders)
    # Someone else buys the last lamp and pays.
    other, other_session = open_order(lamp, 1, email="quick@example.org")
    fake_stripe.pay(other_session)
    deliver(client, event("checkout.session.completed", dict(fake_stripe.sessions[other_session])))
    assert reload(other).status == OrderStatus.PAID

    response = deliver(client, event("checkout.session.completed", dict(fake_stripe.sessions[late_session])))
    assert response.status_code == 200
    late = reload(late)
    assert late.status == OrderStatus.REFUNDED
    assert late.amount_paid_cents == late.amount_refunded_cents == 1500
    assert [part.status for part in late.parts] == [OrderStatus.EXPIRED]
    (call,) = fake_stripe.calls_to("post", "/v1/refunds")
    assert call.params == {"payment_intent": late.payment_intent_id, "amount": "1500"}
    assert call.idempotency_key.startswith(f"late-{late.id}-")
    (refund,) = db.session.scalars(sa.select(Refund)).all()
    assert (refund.status, refund.amount_cents, refund.reason) == (RefundStatus.SUCCEEDED, 1500, "late_payment")
    assert refund.gateway_refund_id in fake_stripe.refunds
    assert stock_of(lamp) == 0 and sales_of(lamp) == 1  # sold once, never below zero
    assert reload(other).status == OrderStatus.PAID
    assert [(m.to, "Refund" in m.subject) for m in outbox if m.to == ["late@example.org"]] == [
        (["late@example.org"], True)
    ]
    assert "arrived after the time to pay was over" in next(
        m.body for m in outbox if m.to == ["late@example.org"])
    # Replays and the reconciliation change nothing more.
    deliver(client, event("checkout.session.completed", dict(fake_stripe.sessions[late_session])))
    in_unit(services.reconcile)
    assert len(fake_stripe.calls_to("post", "/v1/refunds")) == 1
    assert reload(late).status == OrderStatus.REFUNDED


def test_a_payment_for_a_cancelled_order_is_refunded(app, client, fake_stripe, outbox):
    from marketplace.orders import services as orders

    seller = make_seller()
    lamp = make_product(seller.organization, stock=2, price_cents=900)
    order, session_id = open_order(lamp, 1)
    orders.release(order, status=OrderStatus.CANCELLED, reason="cancelled by the shopper")
    db.session.commit()
    fake_stripe.pay(session_id)  # the Stripe tab was still open
    in_unit(services.fulfil_checkout_session, session_id)
    order = reload(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.amount_paid_cents == order.amount_refunded_cents == 900
    assert fake_stripe.intents[order.payment_intent_id]["amount_refunded"] == 900
    assert stock_of(lamp) == 2


def test_a_refused_late_refund_is_recorded_and_never_sold_again(app, fake_stripe, outbox):
    seller = make_seller()
    lamp = make_product(seller.organization, stock=1)
    late, late_session = open_order(lamp, 1)
    fake_stripe.pay(late_session)
    end_hold(late)
    in_unit(services.expire_stale_orders)
    other, other_session = open_order(lamp, 1, email="quick@example.org")
    fake_stripe.pay(other_session)
    in_unit(services.fulfil_checkout_session, other_session)

    fake_stripe.fail_next("post", "/v1/refunds", status=400)
    assert in_unit(services.fulfil_checkout_session, late_session).status == OrderStatus.EXPIRED
    (refund,) = db.session.scalars(sa.select(Refund)).all()
    assert refund.status == RefundStatus.FAILED and refund.detail["error"]
    # Even with the lamp back in stock, that payment is not turned into a sale again.
    from marketplace.catalog import services as catalog
    from marketplace.catalog.models import StockReason

    catalog.adjust_stock(lamp, delta=1, reason=StockReason.MANUAL)
    db.session.commit()
    in_unit(services.fulfil_checkout_session, late_session)
    assert reload(late).status == OrderStatus.EXPIRED and sales_of(lamp) == 1


def test_reconcile_finds_a_payment_whose_webhook_never_came(app, fake_stripe, outbox):
    seller = make_seller()
    lamp = make_product(seller.organization, stock=3)
    paid, paid_session = open_order(lamp, 1)
    unpaid, _ = open_order(lamp, 1, email="other@example.org")
    fake_stripe.pay(paid_session)

    assert in_unit(services.reconcile) == 1
    assert reload(paid).status == OrderStatus.PAID
    assert reload(unpaid).status == OrderStatus.PENDING_PAYMENT
    assert len([m for m in outbox if "is confirmed" in m.subject]) == 1
    assert in_unit(services.reconcile) == 0


def test_reconcile_as_a_command_says_what_it_did(app, fake_stripe):
    seller = make_seller()
    order, session_id = open_order(make_product(seller.organization, stock=3))
    fake_stripe.pay(session_id)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--since-hours", "2"])
    assert result.exit_code == 0, result.output
    assert f"{order.reference}: paid (the webhook never came)" in result.output
    assert "1 unpaid order(s) checked with the gateway: 1 paid" in result.output


def test_reconcile_finishes_a_refund_interrupted_after_the_gateway_call(app, fake_stripe, outbox):
    from datetime import timedelta

    from marketplace.payments import refunds

    seller = make_seller()
    lamp = make_product(seller.organization, stock=3, price_cents=1000)
    order, session_id = open_order(lamp, 2)
    fake_stripe.pay(session_id)
    in_unit(services.fulfil_checkout_session, session_id)
    part = reload(order).parts[0]
    # The process dies right after Stripe refunded: the row stays pending.
    refund = refunds._record_part_refund(part.id, None, by=None, reason="broken",
                                         goods_returned=False)
    db.session.commit()
    from marketplace.payments.gateway import gateway_named

    gateway_named("stripe").refund(payment_intent_id=reload(order).payment_intent_id,
                                   amount_cents=2000, idempotency_key=refund.idempotency_key)
    refund.created_at = refund.created_at - timedelta(minutes=30)
    db.session.commit()

    in_unit(services.reconcile)
    refund = reload(refund)
    assert refund.status == RefundStatus.SUCCEEDED
    assert reload(order).status == OrderStatus.REFUNDED and stock_of(lamp) == 3
    # Same idempotency key, so Stripe answered with the first refund: refunded once.
    assert fake_stripe.intents[reload(order).payment_intent_id]["amount_refunded"] == 2000
    assert len(fake_stripe.refunds) == 1
