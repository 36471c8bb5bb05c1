"""start_payment opens a Stripe Checkout Session with what Stripe needs, once per attempt."""
import time

import pytest

from marketplace import payments
from marketplace.payments import services
from marketplace.payments.services import PaymentError
from tests.factories import make_product
from tests.payments.helpers import end_hold, make_seller, place_order, reload

pytestmark = pytest.mark.english


def test_the_session_carries_lines_in_cents_eur_transfer_group_and_metadata(app, fake_stripe):
    canal, loire = make_seller("Ressourcerie du Canal"), make_seller("Atelier de la Loire")
    lamp = make_product(canal.organization, title="Lampe", price_cents=1500, stock=3)
    bowl = make_product(loire.organization, title="Bol", price_cents=1250, stock=5)
    order = place_order([(lamp, 2), (bowl, 1)], locale="fr")

    session = services.start_payment(order)

    (call,) = fake_stripe.calls_to("post", "/v1/checkout/sessions")
    params = call.params
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.id}"
    assert params["mode"] == "payment"
    assert [(i["price_data"]["product_data"]["name"], i["price_data"]["unit_amount"],
             i["price_data"]["currency"], i["quantity"]) for i in params["line_items"]] == [
        ("Lampe — Ressourcerie du Canal", "1500", "eur", "2"),
        ("Bol — Atelier de la Loire", "1250", "eur", "1"),
    ]
    assert params["payment_intent_data"]["transfer_group"] == order.reference
    assert params["payment_intent_data"]["metadata"] == {"order_id": str(order.id),
                                                         "reference": order.reference}
    assert params["metadata"] == {"order_id": str(order.id), "reference": order.reference}
    assert params["client_reference_id"] == order.reference
    assert params["customer_email"] == "shopper@example.org"
    assert params["locale"] == "fr"
    assert params["success_url"].endswith("?session_id={CHECKOUT_SESSION_ID}")
    assert order.reference in params["cancel_url"]
    assert int(params["expires_at"]) >= time.time() + 30 * 60
    assert call.idempotency_key.startswith(f"checkout-{order.id}-")
    assert fake_stripe.sessions[session.id]["amount_total"] == 2 * 1500 + 1250
    assert (order.checkout_session_id, order.payment_gateway) == (session.id, "stripe")


def test_a_hold_longer_than_thirty_minutes_sets_the_session_expiry(make_app, fake_stripe):
    from tests.payments.conftest import ensure_order_pages

    app = make_app(STRIPE_SECRET_KEY="sk_test_fake", STRIPE_HTTP_CLIENT=fake_stripe,
                   STRIPE_MAX_NETWORK_RETRIES=0, HOLD_MINUTES=90)
    ensure_order_pages(app)
    with app.app_context():
        seller = make_seller()
        order = place_order([(make_product(seller.organization, stock=2), 1)])
        services.start_payment(order)
        (call,) = fake_stripe.calls_to("post", "/v1/checkout/sessions")
        assert int(call.params["expires_at"]) == int(order.hold_expires_at.timestamp())
        assert call.params["locale"] == "en"


def test_paying_again_gives_the_open_session_again(app, fake_stripe):
    seller = make_seller()
    order = place_order([(make_product(seller.organization, stock=2), 1)])
    first = services.start_payment(order)
    again = services.start_payment(order)
    assert again == first
    assert len(fake_stripe.calls_to("post", "/v1/checkout/sessions")) == 1


def test_a_new_attempt_after_the_session_ended_gets_a_new_key(app, fake_stripe):
    seller = make_seller()
    order = place_order([(make_product(seller.organization, stock=2), 1)])
    first = services.start_payment(order)
    fake_stripe.expire(first.id)
    second = services.start_payment(order)
    keys = [c.idempotency_key for c in fake_stripe.calls_to("post", "/v1/checkout/sessions")]
    assert second.id != first.id and len(set(keys)) == 2
    assert reload(order).checkout_session_id == second.id


def test_an_order_whose_hold_ended_cannot_be_paid(app, fake_stripe):
    seller = make_seller()
    order = place_order([(make_product(seller.organization, stock=2), 1)])
    end_hold(order)
    with pytest.raises(PaymentError, match="reservation of this order has ended"):
        services.start_payment(order)
    assert fake_stripe.calls == []


def test_stripe_refusing_the_session_is_a_clear_error(app, fake_stripe):
    from marketplace.payments.gateway import GatewayError

    seller = make_seller()
    order = place_order([(make_product(seller.organization, stock=2), 1)])
    fake_stripe.fail_next("post", "/v1/checkout/sessions", status=400)
    with pytest.raises(GatewayError) as caught:
        services.start_payment(order)
    assert "payment page could not be opened" in str(caught.value.message)
    assert caught.value.definite


def test_checkout_stripe_com_is_an_allowed_form_target_with_stripe(app, client):
    # create_app calls payments.init_app; calling it again changes nothing.
    payments.init_app(app)
    csp = client.get("/").headers["Content-Security-Policy"]
    assert csp.count("https://checkout.stripe.com") == 1
    from config import default

    assert default.CSP_EXTRA_FORM_ACTION == []  # the shared default is left alone


def test_no_stripe_form_target_without_a_key(make_app):
    app = make_app(STRIPE_SECRET_KEY=None)
    payments.init_app(app)
    assert app.config["CSP_EXTRA_FORM_ACTION"] == []
