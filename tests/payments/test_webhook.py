"""The Stripe webhook: signed on the raw body, each event once, any order of arrival; every
story ends with exactly one consistent order."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import PaymentEvent
from tests.factories import make_product
from tests.payments.fake_stripe import event, signed
from tests.payments.helpers import (
    active_holds,
    make_seller,
    place_order,
    reload,
    sales_of,
    stock_of,
)

pytestmark = pytest.mark.english

URL = "/payments/stripe/webhook"


@pytest.fixture
def shop(app):
    seller = make_seller(capacity=3)
    lamp = make_product(seller.organization, title="Lampe", price_cents=1500, stock=5)
    return seller, lamp


@pytest.fixture
def pending(shop, fake_stripe):
    """An order of 2 lamps (of 5) with its Stripe session open."""
    seller, lamp = shop
    order = place_order([(lamp, 2)])
    session = services.start_payment(order)
    db.session.commit()
    return order, session.id


def deliver(client, evt, **kwargs):
    body, headers = signed(evt, **kwargs)
    return client.post(URL, data=body, headers=headers)


def session_event(fake_stripe, event_type, session_id, **kwargs):
    return event(event_type, dict(fake_stripe.sessions[session_id]), **kwargs)


def assert_paid_once(order, lamp, seller, outbox):
    order = reload(order)
    assert order.status == OrderStatus.PAID
    assert order.amount_paid_cents == 3000
    assert order.payment_intent_id.startswith("pi_test_")
    assert stock_of(lamp) == 3
    assert sales_of(lamp) == 1
    assert reload(seller.slot).booked == 1
    assert active_holds(order) == 0
    confirmations = [m for m in outbox if "is confirmed" in m.subject]
    assert len(confirmations) == 1 and confirmations[0].to == ["shopper@example.org"]
    assert [part.commission_cents for part in order.parts] == [150]  # 5 % platform default


def assert_untouched(order, lamp, outbox):
    order = reload(order)
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert stock_of(lamp) == 5 and active_holds(order) == 2
    assert outbox == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 0


def test_a_bad_signature_is_refused_and_changes_nothing(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    evt = session_event(fake_stripe, "checkout.session.completed", session_id)
    response = deliver(client, evt, secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json["message"] == "invalid signature"
    assert_untouched(order, shop[1], outbox)


def test_a_missing_signature_is_refused(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    body, _ = signed(session_event(fake_stripe, "checkout.session.completed", session_id))
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert_untouched(order, shop[1], outbox)


def test_a_body_changed_after_signing_is_refused(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    body, headers = signed(session_event(fake_stripe, "checkout.session.completed", session_id))
    response = client.post(URL, data=body.replace('"paid"', '"paid" '), headers=headers)
    assert response.status_code == 400
    assert_untouched(order, shop[1], outbox)


def test_signed_garbage_is_a_400(client, shop, pending, outbox):
    body, headers = signed("this is not json")
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 400 and response.json["message"] == "invalid payload"
    assert_untouched(pending[0], shop[1], outbox)


def test_the_same_completed_event_five_times_pays_once(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    evt = session_event(fake_stripe, "checkout.session.completed", session_id)
    answers = [deliver(client, evt) for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert [r.json["result"] for r in answers][1:] == ["duplicate"] * 4
    assert_paid_once(order, shop[1], shop[0], outbox)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1
    # Only the first delivery asked Stripe about the session.
    assert len(fake_stripe.calls_to("get", "/v1/checkout/sessions/")) == 1


def test_completed_twice_with_different_event_ids_pays_once(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    for event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        assert deliver(client, session_event(fake_stripe, event_type, session_id)).status_code == 200
    assert deliver(client, session_event(fake_stripe, "checkout.session.completed", session_id)).status_code == 200
    assert_paid_once(order, shop[1], shop[0], outbox)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 3


def test_expired_arriving_before_completed_reads_stripe_and_pays(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    stale = session_event(fake_stripe, "checkout.session.expired", session_id)  # an old snapshot
    fake_stripe.pay(session_id)  # ...but Stripe now says: complete and paid
    assert deliver(client, stale).status_code == 200
    assert reload(order).status == OrderStatus.PAID
    completed = session_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver(client, completed).status_code == 200
    assert_paid_once(order, shop[1], shop[0], outbox)


def test_expired_after_completed_changes_nothing(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    deliver(client, session_event(fake_stripe, "checkout.session.completed", session_id))
    evt = session_event(fake_stripe, "checkout.session.expired", session_id)
    evt["data"]["object"].update(status="expired", payment_status="unpaid")
    assert deliver(client, evt).status_code == 200
    assert_paid_once(order, shop[1], shop[0], outbox)


def test_an_expired_session_releases_the_holds(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.expire(session_id)
    assert deliver(client, session_event(fake_stripe, "checkout.session.expired", session_id)).status_code == 200
    order = reload(order)
    assert order.status == OrderStatus.EXPIRED
    assert active_holds(order) == 0 and stock_of(shop[1]) == 5 and sales_of(shop[1]) == 0
    assert outbox == []
    # Stripe ended that session itself: nothing to expire through the API.
    assert fake_stripe.calls_to("post", f"/v1/checkout/sessions/{session_id}/expire") == []


def test_a_failed_delayed_payment_releases_the_holds(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id, payment_status="unpaid")  # a bank debit, not confirmed yet
    assert deliver(client, session_event(fake_stripe, "checkout.session.completed", session_id)).status_code == 200
    assert reload(order).status == OrderStatus.PENDING_PAYMENT  # waiting for the bank
    failed = session_event(fake_stripe, "checkout.session.async_payment_failed", session_id)
    assert deliver(client, failed).status_code == 200
    order = reload(order)
    assert order.status == OrderStatus.EXPIRED
    assert [part.status for part in order.parts] == [OrderStatus.EXPIRED]
    assert active_holds(order) == 0 and stock_of(shop[1]) == 5 and reload(shop[0].slot).booked == 0
    assert outbox == []


def test_an_unknown_event_type_is_stored_and_ignored(client, shop, pending, outbox):
    evt = event("customer.created", {"id": "cus_123", "object": "customer"})
    response = deliver(client, evt)
    assert response.status_code == 200 and response.json["result"] == "ignored"
    stored = db.session.scalars(sa.select(PaymentEvent)).all()
    assert [(e.gateway, e.event_id, e.type) for e in stored] == [("stripe", evt["id"], "customer.created")]
    assert reload(pending[0]).status == OrderStatus.PENDING_PAYMENT
    assert deliver(client, evt).json["result"] == "duplicate"


def test_an_event_for_an_unknown_session_is_a_200(client, fake_stripe, app):
    fake_stripe.sessions["cs_test_elsewhere"] = {
        "id": "cs_test_elsewhere", "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "payment_intent": "pi_x", "amount_total": 100, "metadata": {},
    }
    response = deliver(client, event("checkout.session.completed", {"id": "cs_test_elsewhere"}))
    assert response.status_code == 200 and response.json["result"] == "no order"


def test_a_malformed_event_is_a_200_and_stored(client, app):
    response = deliver(client, event("checkout.session.completed", {"object": "checkout.session"}))
    assert response.status_code == 200 and "malformed" in response.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1


def test_stripe_unreachable_asks_for_a_redelivery(client, shop, pending, fake_stripe, outbox):
    order, session_id = pending
    fake_stripe.pay(session_id)
    evt = session_event(fake_stripe, "checkout.session.completed", session_id)
    fake_stripe.fail_next("get", "/v1/checkout/sessions/", status=500, type="api_error")
    response = deliver(client, evt)
    assert response.status_code == 503
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 0
    assert deliver(client, evt).status_code == 200  # Stripe's next attempt
    assert_paid_once(order, shop[1], shop[0], outbox)


def test_without_a_webhook_secret_every_delivery_is_refused(make_app, fake_stripe):
    app = make_app(STRIPE_SECRET_KEY="sk_test_fake", STRIPE_WEBHOOK_SECRET=None,
                   STRIPE_HTTP_CLIENT=fake_stripe)
    with app.app_context():
        response = deliver(app.test_client(), event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 400


def test_the_webhook_needs_no_csrf_token(make_app, fake_stripe):
    from tests.payments.fake_stripe import WEBHOOK_SECRET

    app = make_app(STRIPE_SECRET_KEY="sk_test_fake", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_HTTP_CLIENT=fake_stripe, WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = deliver(app.test_client(), event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200


def test_a_session_whose_id_was_never_stored_is_found_by_its_metadata(client, shop, fake_stripe, outbox):
    from marketplace.payments.gateway import get_gateway

    seller, lamp = shop
    order = place_order([(lamp, 2)])
    # The session was made at Stripe, then the request died before storing its id.
    session = get_gateway().create_checkout_session(
        order, success_url="https://x/ok", cancel_url="https://x/ko", idempotency_key="k-lost")
    fake_stripe.pay(session.id)
    assert deliver(client, session_event(fake_stripe, "checkout.session.completed", session.id)).status_code == 200
    order = reload(order)
    assert (order.checkout_session_id, order.payment_gateway) == (session.id, "stripe")
    assert_paid_once(order, lamp, seller, outbox)


def test_a_session_stripe_does_not_know_is_stored_and_not_retried(client, pending):
    # Our order names a session the Stripe account does not have (keys of another account).
    order, _ = pending
    order.checkout_session_id = "cs_test_unknown"
    db.session.commit()
    response = deliver(client, event("checkout.session.completed", {"id": "cs_test_unknown"}))
    assert response.status_code == 200 and "unknown to Stripe" in response.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1
