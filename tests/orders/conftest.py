"""Fixtures of the shopper's pages (helpers in tests/orders/shopper.py)."""
import pytest

from tests.orders.helpers import make_slot
from tests.orders.shopper import FakePayments, build_shop


@pytest.fixture
def market(app):
    """Two sellers with products and open pickup slots (see shopper.Shop)."""
    return build_shop()


@pytest.fixture
def shop(make_organization, make_product):
    """(seller, product with 3 units at 12,50 €, slot with 2 places)."""
    seller = make_organization(name="Ressourcerie")
    return seller, make_product(seller, stock=3, price_cents=1250), make_slot(seller, capacity=2)


@pytest.fixture
def fake_payments(monkeypatch):
    """The payment gateway replaced by FakePayments (no payment page, paid on demand)."""
    fake = FakePayments()
    for name in ("start_payment", "fulfil_checkout_session", "expire_remote_session"):
        monkeypatch.setattr(f"marketplace.payments.services.{name}", getattr(fake, name))
    return fake
