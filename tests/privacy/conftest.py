"""Two sellers with products and slots, and the payment gateway stood in for: the shopper's
fixtures of tests/orders, shared rather than written again."""
from tests.orders.conftest import fake_payments, market  # noqa: F401 - fixtures used here
