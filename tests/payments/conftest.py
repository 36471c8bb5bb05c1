"""Payment tests: the app talks to FakeStripe through the real stripe SDK's http_client hook."""
from __future__ import annotations

import pytest
from flask import Blueprint, request

from tests.payments.fake_stripe import FakeStripe, stripe_settings


def ensure_order_pages(app) -> None:
    """The shopper's checkout pages belong to the orders domain; when they are not there (yet),
    stand-ins with the same endpoints do what the contract says (success runs fulfilment)."""
    if "orders.checkout_success" in app.view_functions:
        return
    from marketplace.payments import services

    bp = Blueprint("orders", __name__)

    @bp.get("/checkout/success")
    def checkout_success():
        order = services.fulfil_checkout_session(request.args["session_id"])
        return f"success {order.reference} {order.status.value}"

    @bp.get("/checkout/cancelled/<reference>")
    def checkout_cancelled(reference):
        return f"cancelled {reference}"

    @bp.get("/cart")
    def cart():
        return "cart"

    app.register_blueprint(bp)


@pytest.fixture
def fake_stripe() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def app(make_app, fake_stripe):
    app = make_app(**stripe_settings(fake_stripe))
    ensure_order_pages(app)
    with app.app_context():
        yield app
