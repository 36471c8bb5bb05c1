"""A NUL byte anywhere in a request is a 400, never a database error (PostgreSQL refuses it)."""
import pytest


@pytest.fixture
def app(make_app):
    app = make_app(BABEL_DEFAULT_LOCALE="en", PROPAGATE_TEST_ERRORS=False)
    with app.app_context():
        yield app


@pytest.mark.parametrize("method,url,data", [
    ("get", "/checkout/success?session_id=cs_%00x", None),
    ("get", "/orders/ESS%00", None),
    ("get", "/checkout/cancelled/ESS%00", None),
    ("post", "/orders/ESS%00/pay", {}),
    ("get", "/orders/ESS%00/withdrawal", None),
    ("get", "/payments/demo/demo_cs_%00", None),
    ("get", "/orgs/1/orders?q=%00", None),
])
def test_input(app, client, method, url, data):
    r = getattr(client, method)(url, data=data)
    assert r.status_code == 400, (url, r.status_code)
