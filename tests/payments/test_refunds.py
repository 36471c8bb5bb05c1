"""Staff refunds of a paid order part, whole or per line, through the gateway; refunds made
from the Stripe dashboard."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.catalog.models import StockMovement, StockReason
from marketplace.db import db, utcnow
from marketplace.orders.models import OrderStatus
from marketplace.payments import services
from marketplace.payments.models import Refund, RefundStatus
from marketplace.payments.refunds import RefundError
from tests.factories import make_product, make_user
from tests.payments.fake_stripe import event, signed
from tests.payments.helpers import make_seller, place_order, reload, stock_of

pytestmark = pytest.mark.english


@pytest.fixture
def paid(app, fake_stripe, outbox):
    """A paid order from two sellers: 2 lamps (15 €) + 1 vase (8 €) at the Canal, 1 bowl
    (12,50 €) at the Loire. The outbox starts empty after the confirmation."""
    canal, loire = make_seller("Ressourcerie du Canal"), make_seller("Atelier de la Loire")
    lamp = make_product(canal.organization, title="Lampe", price_cents=1500, stock=5)
    vase = make_product(canal.organization, title="Vase", price_cents=800, stock=1)
    bowl = make_product(loire.organization, title="Bol", price_cents=1250, stock=4)
    order = place_order([(lamp, 2), (vase, 1), (bowl, 1)])
    session = services.start_payment(order)
    db.session.commit()
    fake_stripe.pay(session.id)
    services.fulfil_checkout_session(session.id)
    staff = make_user(name="Karim Benali")
    db.session.commit()
    outbox.clear()
    order = reload(order)
    return SimpleNamespace(order=order, canal=order.parts[0], loire=order.parts[1], lamp=lamp, vase=vase,
                bowl=bowl, slots=(canal.slot, loire.slot), staff=staff)


def refund_emails(outbox):
    return [m for m in outbox if m.subject.startswith("Refund of")]


def test_a_whole_part_is_refunded(paid, fake_stripe, outbox):
    part, staff = paid.canal, paid.staff
    assert (stock_of(paid.lamp), stock_of(paid.vase)) == (3, 0)

    refund = services.refund_part(part, quantities=None, by=staff, reason="Shop closed")

    (call,) = fake_stripe.calls_to("post", "/v1/refunds")
    assert call.params == {"payment_intent": paid.order.payment_intent_id, "amount": "3800"}
    assert call.idempotency_key == refund.idempotency_key == (
        f"refund-{refund.id}-{int(refund.created_at.timestamp())}")
    refund = reload(refund)
    assert (refund.status, refund.amount_cents, refund.by_id) == (RefundStatus.SUCCEEDED, 3800, staff.id)
    assert refund.gateway_refund_id in fake_stripe.refunds
    part, order = reload(part), reload(paid.order)
    assert part.status == OrderStatus.REFUNDED and part.refunded_cents == 3800
    assert [line.refunded_quantity for line in part.lines] == [2, 1]
    assert order.status == OrderStatus.PARTIALLY_REFUNDED  # the Loire part is still sold
    assert order.amount_refunded_cents == 3800
    assert reload(paid.loire).status == OrderStatus.PAID
    # Not collected: the goods and the pickup place come back.
    assert (stock_of(paid.lamp), stock_of(paid.vase), stock_of(paid.bowl)) == (5, 1, 3)
    movements = db.session.scalars(sa.select(StockMovement).where(
        StockMovement.reason == StockReason.CANCELLATION)).all()
    assert {(m.product_id, m.delta, m.reference) for m in movements} == {
        (paid.lamp.id, 2, order.reference), (paid.vase.id, 1, order.reference)}
    assert reload(paid.slots[0]).booked == 0 and reload(paid.slots[1]).booked == 1
    (email,) = refund_emails(outbox)
    assert email.to == ["shopper@example.org"]
    assert "We refunded €38.00 on your order" in email.body
    assert "2 × Lampe" in email.body and "1 × Vase" in email.body
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "order.refunded"))
    assert entry.data["amount_cents"] == 3800 and entry.actor_id == staff.id


def test_refunding_every_part_refunds_the_order(paid, fake_stripe):
    services.refund_part(paid.canal, quantities=None, by=paid.staff, reason="closed")
    services.cancel_part(paid.loire, by=paid.staff, reason="closed")
    order = reload(paid.order)
    assert order.status == OrderStatus.REFUNDED
    assert order.amount_refunded_cents == order.amount_paid_cents == 5050
    assert fake_stripe.intents[order.payment_intent_id]["amount_refunded"] == 5050


def test_one_line_is_refunded_in_part(paid, fake_stripe, outbox):
    part = paid.canal
    lamp_line = next(line for line in part.lines if line.title == "Lampe")
    refund = services.refund_part(part, quantities={lamp_line.id: 1}, by=paid.staff,
                                  reason="Chipped")
    assert refund.amount_cents == 1500
    assert fake_stripe.calls_to("post", "/v1/refunds")[0].params["amount"] == "1500"
    part = reload(part)
    assert part.status == OrderStatus.PARTIALLY_REFUNDED and part.refunded_cents == 1500
    assert [(line.title, line.refunded_quantity) for line in part.lines] == [("Lampe", 1), ("Vase", 0)]
    assert reload(paid.order).status == OrderStatus.PARTIALLY_REFUNDED
    assert (stock_of(paid.lamp), stock_of(paid.vase)) == (4, 0)
    assert reload(paid.slots[0]).booked == 1  # still collecting the rest
    (email,) = refund_emails(outbox)
    assert "1 × Lampe" in email.body and "Refunded so far on this order: €15.00 of €50.50" in email.body

    # The rest of the part, later: what is left, nothing more.
    services.refund_part(part, quantities=None, by=paid.staff, reason="closed")
    assert fake_stripe.calls_to("post", "/v1/refunds")[1].params["amount"] == "2300"
    assert reload(part).status == OrderStatus.REFUNDED


def test_more_than_what_is_left_is_refused_and_nothing_changes(paid, fake_stripe, outbox):
    part = paid.canal
    lamp_line = next(line for line in part.lines if line.title == "Lampe")
    with pytest.raises(RefundError, match="Only 2 of “Lampe” can still be refunded"):
        services.refund_part(part, quantities={lamp_line.id: 3}, by=paid.staff, reason="x")
    services.refund_part(part, quantities={lamp_line.id: 2}, by=paid.staff, reason="x")
    with pytest.raises(RefundError, match="Only 0 of “Lampe”"):
        services.refund_part(part, quantities={lamp_line.id: 1}, by=paid.staff, reason="x")
    other_line = paid.loire.lines[0]
    with pytest.raises(RefundError, match="not part of this order"):
        services.refund_part(part, quantities={other_line.id: 1}, by=paid.staff, reason="x")
    services.refund_part(part, quantities=None, by=paid.staff, reason="x")
    with pytest.raises(RefundError, match="nothing left to refund"):
        services.refund_part(part, quantities=None, by=paid.staff, reason="x")
    assert len(fake_stripe.calls_to("post", "/v1/refunds")) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 2
    assert reload(paid.order).amount_refunded_cents == 3800


def test_an_unpaid_order_cannot_be_refunded(app, fake_stripe):
    seller = make_seller()
    order = place_order([(make_product(seller.organization, stock=2), 1)])
    with pytest.raises(RefundError, match="Only a paid order can be refunded"):
        services.refund_part(order.parts[0], quantities=None, by=None, reason="x")
    assert fake_stripe.calls == []


def test_a_refusal_by_the_gateway_changes_nothing_but_a_failed_refund(paid, fake_stripe, outbox):
    part = paid.canal
    fake_stripe.fail_next("post", "/v1/refunds", status=400, message="Charge already disputed.")
    with pytest.raises(RefundError) as caught:
        services.refund_part(part, quantities=None, by=paid.staff, reason="x")
    assert "refused the refund, so nothing was refunded (Charge already disputed.)" in str(
        caught.value.message)
    (refund,) = db.session.scalars(sa.select(Refund)).all()
    assert refund.status == RefundStatus.FAILED and refund.gateway_refund_id is None
    part, order = reload(part), reload(paid.order)
    assert part.status == OrderStatus.PAID and part.refunded_cents == 0
    assert [line.refunded_quantity for line in part.lines] == [0, 0]
    assert order.amount_refunded_cents == 0 and order.status == OrderStatus.PAID
    assert (stock_of(paid.lamp), stock_of(paid.vase)) == (3, 0)
    assert refund_emails(outbox) == []
    assert db.session.scalar(sa.select(AuditEntry.action).where(
        AuditEntry.action == "order.refund_failed")) == "order.refund_failed"
    # A later attempt is a new refund with its own key, and works.
    services.refund_part(part, quantities=None, by=paid.staff, reason="x")
    keys = [c.idempotency_key for c in fake_stripe.calls_to("post", "/v1/refunds")]
    assert len(set(keys)) == 2 and reload(part).status == OrderStatus.REFUNDED


def test_a_gateway_that_does_not_answer_leaves_the_refund_pending(paid, fake_stripe):
    part = paid.canal
    fake_stripe.fail_next("post", "/v1/refunds", status=500, type="api_error")
    with pytest.raises(RefundError, match="checked again automatically") as caught:
        services.refund_part(part, quantities=None, by=paid.staff, reason="x")
    assert caught.value.status_code == 503
    (refund,) = db.session.scalars(sa.select(Refund)).all()
    assert refund.status == RefundStatus.PENDING
    # What is pending counts: it cannot be refunded a second time meanwhile.
    with pytest.raises(RefundError, match="nothing left to refund"):
        services.refund_part(part, quantities=None, by=paid.staff, reason="x")


def test_collected_goods_come_back_in_stock_only_when_returned(paid, fake_stripe):
    part = paid.canal
    part.collected_at = utcnow()
    part.status = OrderStatus.COLLECTED
    db.session.commit()
    lamp_line, vase_line = part.lines
    services.refund_part(part, quantities={lamp_line.id: 1}, by=None, reason="goodwill")
    assert stock_of(paid.lamp) == 3
    services.refund_part(part, quantities={vase_line.id: 1}, by=None, reason="withdrawal",
                         goods_returned=True)
    assert stock_of(paid.vase) == 1
    assert db.session.scalar(sa.select(StockMovement.reason).where(
        StockMovement.product_id == paid.vase.id).order_by(StockMovement.id.desc()).limit(1)
    ) == StockReason.RETURN
    assert reload(part).status == OrderStatus.PARTIALLY_REFUNDED
    assert reload(paid.slots[0]).booked == 1


def deliver(client, evt):
    body, headers = signed(evt)
    return client.post("/payments/stripe/webhook", data=body, headers=headers)


def test_a_full_refund_from_the_dashboard_is_recorded_once(paid, client, fake_stripe, outbox):
    order = paid.order
    charge = fake_stripe.refund_at_dashboard(order.payment_intent_id, 5050)
    evt = event("charge.refunded", charge)
    assert deliver(client, evt).status_code == 200
    assert deliver(client, evt).json["result"] == "duplicate"
    # The same total in another event (Stripe sends charge.refunded again on any update).
    assert deliver(client, event("charge.refunded", charge)).status_code == 200
    order = reload(order)
    assert order.status == OrderStatus.REFUNDED and order.amount_refunded_cents == 5050
    assert [p.status for p in order.parts] == [OrderStatus.REFUNDED, OrderStatus.REFUNDED]
    assert (stock_of(paid.lamp), stock_of(paid.vase), stock_of(paid.bowl)) == (5, 1, 4)
    (refund,) = db.session.scalars(sa.select(Refund)).all()
    assert (refund.amount_cents, refund.status, refund.reason) == (
        5050, RefundStatus.SUCCEEDED, "refunded_at_gateway")
    assert len(refund_emails(outbox)) == 1
    assert fake_stripe.calls_to("post", "/v1/refunds") == []  # nothing sent back twice


def test_a_partial_refund_from_the_dashboard_matches_stripe(paid, client, fake_stripe):
    order = paid.order
    deliver(client, event("charge.refunded", fake_stripe.refund_at_dashboard(order.payment_intent_id, 500)))
    order = reload(order)
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.amount_refunded_cents == 500
    # Our own refund then shows in Stripe's total too: nothing is counted twice.
    services.refund_part(paid.loire, quantities=None, by=None, reason="x")
    deliver(client, event("charge.refunded", fake_stripe.charge(order.payment_intent_id)))
    assert reload(order).amount_refunded_cents == 500 + 1250
    assert fake_stripe.intents[order.payment_intent_id]["amount_refunded"] == 1750


def test_a_refund_of_ours_echoed_by_stripe_adds_nothing(paid, client, fake_stripe):
    order = paid.order
    services.cancel_part(paid.loire, by=None, reason="x")
    assert deliver(client, event("charge.refunded", fake_stripe.charge(order.payment_intent_id))).status_code == 200
    assert reload(order).amount_refunded_cents == 1250
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
