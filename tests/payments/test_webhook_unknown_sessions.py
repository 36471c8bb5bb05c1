"""Signed events about payments that are not ours (a session no order has, another shop on the
same Stripe account, a forged success URL): answered 200 with nothing done and nothing asked of
Stripe; only a failure that a redelivery can fix answers 5xx."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import PaymentEvent
from tests.factories import make_product
from tests.payments.fake_stripe import WEBHOOK_SECRET, event, signed
from tests.payments.helpers import active_holds, make_seller, place_order, reload, stock_of

pytestmark = pytest.mark.english

URL = "/payments/stripe/webhook"

SESSION_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
]


def deliver(client, evt):
    body, headers = signed(evt)
    return client.post(URL, data=body, headers=headers)


def stranger_session(session_id="cs_test_a1b2c3_nobody", **metadata) -> dict:
    """A Checkout Session as Stripe would send it, made by someone else on the account."""
    return {"id": session_id, "object": "checkout.session", "status": "complete",
            "payment_status": "paid", "payment_intent": "pi_test_stranger",
            "amount_total": 4200, "currency": "eur", "client_reference_id": None,
            "metadata": metadata}


def stored_events() -> list[tuple[str, str]]:
    return [(e.event_id, e.type) for e in db.session.scalars(sa.select(PaymentEvent))]


@pytest.fixture
def pending(app):
    """Our own order, waiting for its payment, with a Stripe session open."""
    seller = make_seller(capacity=3)
    lamp = make_product(seller.organization, title="Lampe", price_cents=1500, stock=5)
    order = place_order([(lamp, 2)])
    services.start_payment(order)
    db.session.commit()
    return order, lamp


@pytest.mark.parametrize("event_type", SESSION_EVENTS)
def test_an_event_for_a_session_no_order_has_is_recorded_once_and_asks_stripe_nothing(
        client, fake_stripe, pending, event_type):
    order, lamp = pending
    evt = event(event_type, stranger_session())
    before = len(fake_stripe.calls)
    response = deliver(client, evt)
    assert response.status_code == 200 and response.json["result"] == "no order"
    assert len(fake_stripe.calls) == before  # no API call at all
    assert stored_events() == [(evt["id"], event_type)]
    again = deliver(client, evt)
    assert again.status_code == 200 and again.json["result"] == "duplicate"
    assert stored_events() == [(evt["id"], event_type)]
    assert len(fake_stripe.calls) == before
    order = reload(order)  # our own order is untouched
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert active_holds(order) == 2 and stock_of(lamp) == 5


@pytest.mark.parametrize("event_type", SESSION_EVENTS)
def test_in_demo_mode_a_signed_event_for_an_unknown_session_is_a_200(make_app, event_type):
    # No Stripe key (payments go through the demo page), but a webhook secret is set.
    app = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with app.app_context():
        evt = event(event_type, stranger_session())
        response = deliver(app.test_client(), evt)
        assert response.status_code == 200 and response.json["result"] == "no order"
        assert stored_events() == [(evt["id"], event_type)]


def test_metadata_naming_one_of_our_orders_with_another_reference_is_not_ours(
        client, fake_stripe, pending):
    """Another database on the same Stripe account (a second test instance, a reset database)
    numbers its orders from 1 too: an order id alone does not make the session ours."""
    order, lamp = pending
    evt = event("checkout.session.completed",
                stranger_session(order_id=str(order.id), reference="ESS-OTHER-SHOP"))
    before = len(fake_stripe.calls)
    response = deliver(client, evt)
    assert response.status_code == 200 and response.json["result"] == "no order"
    assert len(fake_stripe.calls) == before
    assert reload(order).status == OrderStatus.PENDING_PAYMENT and stock_of(lamp) == 5


def test_a_refund_of_a_charge_no_order_has_is_a_200_and_asks_stripe_nothing(client, fake_stripe):
    charge = {"id": "ch_test_stranger", "object": "charge", "amount": 4200,
              "amount_refunded": 4200, "currency": "eur", "payment_intent": "pi_test_stranger",
              "refunded": True}
    evt = event("charge.refunded", charge)
    response = deliver(client, evt)
    assert response.status_code == 200 and response.json["result"] == "no order"
    assert fake_stripe.calls == []
    assert stored_events() == [(evt["id"], "charge.refunded")]


def test_our_order_is_still_fulfilled_and_a_stripe_outage_still_asks_for_a_redelivery(
        client, fake_stripe, pending):
    order, lamp = pending
    session_id = reload(order).checkout_session_id
    fake_stripe.pay(session_id)
    evt = event("checkout.session.completed", dict(fake_stripe.sessions[session_id]))
    fake_stripe.fail_next("get", "/v1/checkout/sessions/", status=500, type="api_error")
    assert deliver(client, evt).status_code == 503  # a retry can fix this one
    assert stored_events() == []
    response = deliver(client, evt)
    assert response.status_code == 200
    assert reload(order).status == OrderStatus.PAID and stock_of(lamp) == 3


def test_the_success_page_for_a_session_no_order_has_is_a_404_without_asking_stripe(
        client, fake_stripe, pending):
    response = client.get("/checkout/success?session_id=cs_test_made_up_by_someone")
    assert response.status_code == 404
    assert fake_stripe.calls_to("get", "/v1/checkout/sessions/") == []
