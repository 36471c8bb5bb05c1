"""The refunds' named durable steps (docs/architecture.md, Named exceptions): a refund's intent
is on disk, its locks released, before the gateway is asked to move the money; the gateway's
answer is recorded at once, whatever fails later in the unit of work."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.db import db
from marketplace.orders.models import Order
from marketplace.payments import refunds, services
from marketplace.payments.models import Refund, RefundStatus
from tests.factories import make_product
from tests.payments.helpers import in_unit, make_seller, place_order, reload

pytestmark = pytest.mark.english


@pytest.fixture
def paid(app, fake_stripe):
    seller = make_seller()
    lamp = make_product(seller.organization, title="Lampe", price_cents=1500, stock=5)
    order = place_order([(lamp, 2)])
    session = services.start_payment(order)
    db.session.commit()
    fake_stripe.pay(session.id)
    in_unit(services.fulfil_checkout_session, session.id)
    return reload(order)


@pytest.fixture
def on_disk_at_the_gateway(monkeypatch):
    """What another connection sees (what is committed) when the gateway is asked to refund."""
    seen = []
    real = refunds.gateway_named

    def spying(name):
        gateway = real(name)
        refund = gateway.refund

        def refund_and_look(**kwargs):
            with db.engine.connect() as other:
                seen.append(SimpleNamespace(
                    refunds=list(other.scalars(sa.select(Refund.status))),
                    # Locked without waiting (PostgreSQL; SQLite has no row locks).
                    order=other.scalar(sa.select(Order.id).with_for_update(nowait=True)),
                ))
                other.rollback()
            return refund(**kwargs)

        gateway.refund = refund_and_look
        return gateway

    monkeypatch.setattr(refunds, "gateway_named", spying)
    return seen


def test_a_refund_sent_stays_recorded_when_the_unit_fails_afterwards(paid, on_disk_at_the_gateway):
    order_id = paid.id
    with pytest.raises(RuntimeError), uow.unit():
        services.refund_part(paid.parts[0], quantities=None, by=None, reason="Shop closed")
        raise RuntimeError("the page failed after the refund went through")
    db.session.remove()

    (at_the_gateway,) = on_disk_at_the_gateway
    assert at_the_gateway.refunds == [RefundStatus.PENDING]  # the intent, committed first
    assert at_the_gateway.order == order_id  # and the order's lock released
    (refund,) = db.session.scalars(sa.select(Refund))
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount_cents == 3000
    assert db.session.get(Order, order_id).amount_refunded_cents == 3000
