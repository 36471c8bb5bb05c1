"""Regressions found in review: a payment whose goods changed under it, or whose order was
cancelled meanwhile, is always refunded, never kept."""
import pytest
import sqlalchemy as sa

from marketplace.catalog import services as catalog
from marketplace.catalog.models import StockReason
from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import Refund
from tests.factories import make_product
from tests.payments.conftest import ensure_order_pages
from tests.payments.fake_stripe import WEBHOOK_SECRET, FakeStripe, event, signed
from tests.payments.helpers import make_seller, place_order, reload, stock_of


@pytest.fixture
def fake_stripe():
    return FakeStripe()


@pytest.fixture
def app(make_app, fake_stripe):
    app = make_app(STRIPE_SECRET_KEY="sk_test_fake", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_HTTP_CLIENT=fake_stripe, STRIPE_MAX_NETWORK_RETRIES=0,
                   BABEL_DEFAULT_LOCALE="en")
    ensure_order_pages(app)
    with app.app_context():
        yield app


def deliver(client, evt):
    body, headers = signed(evt)
    return client.post("/payments/stripe/webhook", data=body, headers=headers)


@pytest.mark.parametrize("change", ["lower", "unlimited"])
def test_stock_changed_during_hold(app, client, fake_stripe, change):
    seller = make_seller()
    lamp = make_product(seller.organization, stock=1)
    order = place_order([(lamp, 1)])
    session = services.start_payment(order)
    db.session.commit()
    # the seller sells the lamp in the shop / switches to unlimited while the shopper pays
    if change == "lower":
        catalog.adjust_stock(lamp, reason=StockReason.MANUAL, new_stock=0, by=None)
    else:
        catalog.set_unlimited(lamp, True, by=None)
    db.session.commit()
    fake_stripe.pay(session.id)
    r = deliver(client, event("checkout.session.completed", fake_stripe.sessions[session.id]))
    order = reload(order)
    assert r.status_code == 200
    services.reconcile_report()
    order = reload(order)
    if change == "lower":  # the lamp was sold in the shop: the payment goes back
        assert order.status == OrderStatus.REFUNDED
        assert order.amount_refunded_cents == order.amount_paid_cents == 1500
        assert stock_of(lamp) == 0
    else:  # now sold without counting: the order is simply paid
        assert order.status == OrderStatus.PAID and order.amount_refunded_cents == 0
        assert stock_of(lamp) is None


def test_cancelled_then_paid_webhook_lost(app, client, fake_stripe):
    from marketplace.orders import services as orders
    seller = make_seller()
    lamp = make_product(seller.organization, stock=1)
    order = place_order([(lamp, 1)])
    session = services.start_payment(order)
    db.session.commit()
    fake_stripe.pay(session.id)          # the shopper pays in one tab...
    orders.release(reload(order), status=OrderStatus.CANCELLED,
                   reason="cancelled by the shopper")
    db.session.commit()                  # ...and cancels in another; the webhook is lost
    services.reconcile_report()
    refunds = db.session.scalars(sa.select(Refund)).all()
    assert [r.amount_cents for r in refunds] == [1500]
