"""The demo gateway (no Stripe key): a local page marked DEMO whose pay, decline and abandon
buttons drive the very same fulfilment code as Stripe."""
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import DemoCheckoutSession, DemoSessionStatus
from tests.factories import make_product
from tests.payments.conftest import ensure_order_pages
from tests.payments.helpers import active_holds, in_unit, make_seller, place_order, reload, stock_of

pytestmark = pytest.mark.english


@pytest.fixture
def app(make_app):
    app = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    ensure_order_pages(app)
    with app.app_context():
        yield app


@pytest.fixture
def demo(app):
    seller = make_seller("Ressourcerie du Canal")
    lamp = make_product(seller.organization, title="Lampe de bureau", price_cents=1550, stock=2)
    order = place_order([(lamp, 2)])
    session = services.start_payment(order)
    db.session.commit()
    return order, session, lamp, seller


def page_path(session):
    return urlsplit(session.url).path


def test_the_demo_page_is_clearly_marked_and_shows_the_order(client, demo):
    order, session, _, _ = demo
    assert session.id.startswith("demo_cs_") and order.payment_gateway == "demo"
    page = client.get(page_path(session))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Demo payment — no money moves." in html
    assert order.reference in html and "Lampe de bureau" in html and "Ressourcerie du Canal" in html
    assert "€31.00" in html  # 2 × 15,50 € through the money filter
    assert len(re.findall(r'<form action="/payments/demo/[^"]+/(pay|decline|abandon)" method="post"', html)) == 3


def test_pay_fulfils_the_order_and_goes_to_the_success_page(client, demo, outbox):
    order, session, lamp, seller = demo
    response = client.post(page_path(session) + "/pay")
    assert response.status_code == 302
    assert response.location.endswith(f"/checkout/success?session_id={session.id}")
    order = reload(order)
    assert order.status == OrderStatus.PAID and order.amount_paid_cents == 3100
    assert order.payment_intent_id.startswith("demo_pi_")
    assert stock_of(lamp) == 0 and reload(seller.slot).booked == 1
    assert len(outbox) == 1 and "is confirmed" in outbox[0].subject
    # The success page runs the same fulfilment again: nothing changes.
    client.get(response.location)
    assert stock_of(lamp) == 0 and len(outbox) == 1
    # Paying again is refused: the session is over.
    again = client.post(page_path(session) + "/pay", follow_redirects=True)
    assert "This demo payment has already ended." in again.get_data(as_text=True)
    assert len(outbox) == 1


def test_decline_releases_the_order(client, demo, outbox):
    order, session, lamp, _ = demo
    response = client.post(page_path(session) + "/decline", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The payment was declined" in html and "Back to my cart" in html
    order = reload(order)
    assert order.status == OrderStatus.EXPIRED and active_holds(order) == 0
    assert stock_of(lamp) == 2 and outbox == []
    assert db.session.get(DemoCheckoutSession, session.id).status == DemoSessionStatus.DECLINED


def test_abandon_goes_back_and_leaves_the_hold_to_expire(client, demo, outbox):
    order, session, _, _ = demo
    response = client.post(page_path(session) + "/abandon")
    assert response.status_code == 302
    assert response.location.endswith(f"/checkout/cancelled/{order.reference}")
    assert reload(order).status == OrderStatus.PENDING_PAYMENT and active_holds(order) == 2
    # ...until the sweeper runs after the hold: the demo session ends with it.
    from tests.payments.helpers import end_hold

    end_hold(order)
    assert in_unit(services.expire_stale_orders) == 1
    assert reload(order).status == OrderStatus.EXPIRED
    assert db.session.get(DemoCheckoutSession, session.id).status == DemoSessionStatus.EXPIRED
    assert "has ended" in client.get(page_path(session)).get_data(as_text=True)


def test_a_demo_payment_is_refunded_on_the_demo_session(client, demo, outbox):
    order, session, lamp, _ = demo
    client.post(page_path(session) + "/pay")
    refund = services.refund_part(reload(order).parts[0], quantities=None, by=None, reason="x")
    assert reload(refund).gateway_refund_id.startswith("demo_re_")
    assert db.session.get(DemoCheckoutSession, session.id).amount_refunded_cents == 3100
    assert reload(order).status == OrderStatus.REFUNDED and stock_of(lamp) == 2


def test_the_demo_forms_carry_their_csrf_token(make_app):
    app = make_app(STRIPE_SECRET_KEY=None, WTF_CSRF_ENABLED=True)
    ensure_order_pages(app)
    with app.app_context():
        seller = make_seller()
        order = place_order([(make_product(seller.organization, stock=2), 1)])
        session = services.start_payment(order)
        db.session.commit()
        client = app.test_client()
        html = client.get(page_path(session)).get_data(as_text=True)
        assert html.count('name="csrf_token"') >= 3
        assert client.post(page_path(session) + "/pay").status_code == 400
        assert reload(order).status == OrderStatus.PENDING_PAYMENT


def test_no_demo_page_once_stripe_is_configured(client, demo, app):
    app.config["STRIPE_SECRET_KEY"] = "sk_test_now_configured"
    order, session, _, _ = demo
    assert client.get(page_path(session)).status_code == 404
    assert client.post(page_path(session) + "/pay").status_code == 404
    assert reload(order).status == OrderStatus.PENDING_PAYMENT


def test_an_unknown_demo_session_is_a_404(client):
    assert client.get("/payments/demo/demo_cs_nope").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DemoCheckoutSession)) == 0
