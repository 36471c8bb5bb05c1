"""Deliveries at the same moment (PostgreSQL, real threads): one payment, one sale, one email."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import PaymentEvent, Refund
from tests.factories import make_product
from tests.payments.fake_stripe import event, signed
from tests.payments.helpers import in_unit, make_seller, place_order, reload, sales_of, stock_of
from tests.threads import at_once

pytestmark = [pytest.mark.english, pytest.mark.postgres]


def run_together(app, work, n: int = 8) -> list:
    results, errors = at_once(app, work, n, timeout=30)
    assert errors == []
    return results


@pytest.fixture
def paid_session(app, fake_stripe):
    seller = make_seller(capacity=2)
    lamp = make_product(seller.organization, stock=4, price_cents=1000)
    order = place_order([(lamp, 3)])
    session = services.start_payment(order)
    db.session.commit()
    fake_stripe.pay(session.id)
    return order, session.id, lamp, seller


def test_concurrent_deliveries_of_one_event_apply_it_once(app, paid_session, fake_stripe, outbox):
    order, session_id, lamp, seller = paid_session
    body, headers = signed(event("checkout.session.completed", dict(fake_stripe.sessions[session_id])))

    codes = run_together(app, lambda i: app.test_client().post(
        "/payments/stripe/webhook", data=body, headers=headers).status_code)

    assert codes == [200] * 8
    assert reload(order).status == OrderStatus.PAID
    assert stock_of(lamp) == 1 and sales_of(lamp) == 1 and reload(seller.slot).booked == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1
    assert len([m for m in outbox if "is confirmed" in m.subject]) == 1


def test_webhook_success_page_and_reconcile_at_once_fulfil_once(app, paid_session, fake_stripe, outbox):
    order, session_id, lamp, seller = paid_session
    # Each as the success page, the webhook or the reconciliation job runs it: in a unit of work.
    run_together(app, lambda i: in_unit(services.fulfil_checkout_session, session_id) if i % 2
                 else in_unit(services.reconcile))
    assert reload(order).status == OrderStatus.PAID
    assert stock_of(lamp) == 1 and sales_of(lamp) == 1 and reload(seller.slot).booked == 1
    assert len([m for m in outbox if "is confirmed" in m.subject]) == 1


def test_concurrent_refunds_of_one_part_never_refund_more_than_paid(app, paid_session, fake_stripe):
    order, session_id, lamp, _ = paid_session
    in_unit(services.fulfil_checkout_session, session_id)
    part_id = reload(order).parts[0].id
    line_id = reload(order).parts[0].lines[0].id

    def refund_one(i):
        from marketplace.orders.models import OrderPart
        from marketplace.payments.refunds import RefundError

        try:
            in_unit(services.refund_part, db.session.get(OrderPart, part_id),
                    quantities={line_id: 1}, by=None, reason="race")
            return "refunded"
        except RefundError:
            return "refused"

    results = run_together(app, refund_one)
    assert sorted(results) == ["refunded"] * 3 + ["refused"] * 5
    order = reload(order)
    assert order.amount_refunded_cents == 3000 and order.status == OrderStatus.REFUNDED
    assert fake_stripe.intents[order.payment_intent_id]["amount_refunded"] == 3000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 3
    assert stock_of(lamp) == 4
