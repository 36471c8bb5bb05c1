"""Two sellers with products and slots (tests/orders/shopper.py), and the payment gateway
stood in for."""
import pytest

from tests.orders.shopper import FakePayments, build_shop


@pytest.fixture
def market(app):
    return build_shop()


@pytest.fixture
def fake_payments(monkeypatch):
    fake = FakePayments()
    for name in ("start_payment", "fulfil_checkout_session", "expire_remote_session"):
        monkeypatch.setattr(f"marketplace.payments.services.{name}", getattr(fake, name))
    return fake
