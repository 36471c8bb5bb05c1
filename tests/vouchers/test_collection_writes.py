"""The counter collection's writes are defined once (vouchers.services._Writes): run one after
the other (SQLite, and PostgreSQL when asked) or chained in one statement (PostgreSQL), they
write the same rows."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db, utcnow
from marketplace.orders.models import Order, OrderPart, OrderStatus
from marketplace.payments import refunds
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.models import CollectedLine, Collection
from tests.factories import make_product
from tests.vouchers.helpers import make_shop, paid_order, voucher_of


def _both_ways():
    return [False, pytest.param(True, marks=pytest.mark.postgres)]


@pytest.fixture
def two_sellers(app):
    """One order from two sellers; the grocer's jam (2) was partly refunded (1)."""
    shop, grocer = make_shop("Ressourcerie du Canal"), make_shop("Épicerie du Canal")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=5)
    jam = make_product(grocer.organization, title="Confiture", price_cents=450, stock=5)
    honey = make_product(grocer.organization, title="Miel", price_cents=900, stock=5)
    order = paid_order([(lamp, 1), (jam, 2), (honey, 1)])
    first = next(p for p in order.parts if p.organization_id == shop.organization.id)
    second = next(p for p in order.parts if p.organization_id == grocer.organization.id)
    jam_line = next(line for line in second.lines if line.title == "Confiture")
    refunds.refund_part(second, quantities={jam_line.id: 1}, by=grocer.manager, reason="Cassé")
    db.session.commit()
    return shop, grocer, order, first, second, jam_line.id


def _collections(app, two_sellers, chained: bool, now) -> list:
    """The grocer hands over the jam, the same request comes again, then the rest; then the
    other seller's part, which completes the order. The answers, as plain values."""
    shop, grocer, order, first, second, jam_line_id = two_sellers
    answers = []
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        for seller, part, nonce, lines in ((grocer, second, "till-a", {jam_line_id}),
                                           (grocer, second, "till-a", {jam_line_id}),
                                           (grocer, second, "till-b", None),
                                           (shop, first, "till-c", None)):
            result = vouchers.collect(voucher_of(part).id, organization=seller.organization,
                                      by=seller.counter, nonce=nonce, line_ids=lines,
                                      chained=chained)
            answers.append((result.replayed, result.complete, result.created_at,
                            [(h.title, h.quantity) for h in result.lines]))
    return answers


def _written(order_id: int) -> dict:
    """Every row the collections wrote or changed, without the ids a sequence hands out."""
    db.session.expire_all()
    collections = db.session.execute(
        sa.select(Collection.nonce, Collection.voucher_id, Collection.collected_by_id,
                  Collection.collected_by_name, Collection.created_at).order_by(Collection.id)
    ).all()
    lines = db.session.execute(
        sa.select(Collection.nonce, CollectedLine.order_line_id, CollectedLine.quantity)
        .join(Collection, Collection.id == CollectedLine.collection_id)
        .order_by(CollectedLine.id)
    ).all()
    parts = db.session.execute(
        sa.select(OrderPart.id, OrderPart.status, OrderPart.collected_at)
        .where(OrderPart.order_id == order_id).order_by(OrderPart.id)
    ).all()
    order = db.session.execute(
        sa.select(Order.status, Order.updated_at).where(Order.id == order_id)).one()
    audit = db.session.execute(
        sa.select(AuditEntry.created_at, AuditEntry.action, AuditEntry.actor_id,
                  AuditEntry.organization_id, AuditEntry.subject_type, AuditEntry.subject_id,
                  AuditEntry.data, AuditEntry.ip_address)
        .where(AuditEntry.action == "voucher.collected").order_by(AuditEntry.id)
    ).all()
    return {"collections": [tuple(r) for r in collections], "lines": [tuple(r) for r in lines],
            "parts": [tuple(r) for r in parts], "order": tuple(order),
            "audit": [tuple(r) for r in audit]}


@pytest.fixture
def frozen_now(monkeypatch):
    """One instant for the collections and their audit lines (utcnow as the services read it)."""
    now = utcnow().replace(microsecond=0) + timedelta(hours=1)
    monkeypatch.setattr("marketplace.vouchers.services.utcnow", lambda: now)
    monkeypatch.setattr("marketplace.audit.services.utcnow", lambda: now)
    return now


@pytest.mark.parametrize("chained", _both_ways())
def test_a_collection_writes_its_lines_the_part_the_order_and_the_audit(app, two_sellers,
                                                                       frozen_now, chained):
    shop, grocer, order, first, second, jam_line_id = two_sellers
    now = frozen_now
    answers = _collections(app, two_sellers, chained, now)
    assert answers == [
        (False, False, now, [("Confiture", 1)]),
        (True, False, now, [("Confiture", 1)]),
        (False, True, now, [("Miel", 1)]),
        (False, True, now, [("Lampe de bureau", 1)]),
    ]
    written = _written(order.id)
    first_voucher, second_voucher = voucher_of(first).id, voucher_of(second).id
    assert written["collections"] == [
        ("till-a", second_voucher, grocer.counter.id, "Lucie Moreau", now),
        ("till-b", second_voucher, grocer.counter.id, "Lucie Moreau", now),
        ("till-c", first_voucher, shop.counter.id, "Lucie Moreau", now),
    ]
    honey_line = next(line.id for line in second.lines if line.title == "Miel")
    assert written["lines"] == [("till-a", jam_line_id, 1), ("till-b", honey_line, 1),
                                ("till-c", first.lines[0].id, 1)]
    assert written["parts"] == sorted([(first.id, OrderStatus.COLLECTED, now),
                                       (second.id, OrderStatus.COLLECTED, now)])
    assert written["order"] == (OrderStatus.COLLECTED, now)
    reference = order.reference
    assert written["audit"] == [
        (now, "voucher.collected", grocer.counter.id, grocer.organization.id, "OrderPart",
         second.id, {"reference": reference, "voucher": voucher_of(second).code,
                     "lines": [{"title": "Confiture", "quantity": 1}], "complete": False},
         "203.0.113.7"),
        (now, "voucher.collected", grocer.counter.id, grocer.organization.id, "OrderPart",
         second.id, {"reference": reference, "voucher": voucher_of(second).code,
                     "lines": [{"title": "Miel", "quantity": 1}], "complete": True},
         "203.0.113.7"),
        (now, "voucher.collected", shop.counter.id, shop.organization.id, "OrderPart",
         first.id, {"reference": reference, "voucher": voucher_of(first).code,
                    "lines": [{"title": "Lampe de bureau", "quantity": 1}], "complete": True},
         "203.0.113.7"),
    ]


def test_a_collection_that_leaves_a_part_open_changes_neither_part_nor_order(app, two_sellers,
                                                                            frozen_now):
    shop, grocer, order, first, second, jam_line_id = two_sellers
    before = _written(order.id)
    with app.test_request_context():
        vouchers.collect(voucher_of(second).id, organization=grocer.organization,
                         by=grocer.counter, nonce="n", line_ids={jam_line_id})
    written = _written(order.id)
    assert len(written["lines"]) == 1 and len(written["audit"]) == 1
    assert written["parts"] == before["parts"] and written["order"] == before["order"]
    assert OrderStatus.COLLECTED not in {status for _, status, _ in written["parts"]}


@pytest.mark.postgres
def test_on_postgresql_the_chained_statement_and_the_sequence_write_the_same_rows(
        app, two_sellers, frozen_now):
    order = two_sellers[2]
    before = _written(order.id)
    in_sequence = _collections(app, two_sellers, False, frozen_now)
    written_in_sequence = _written(order.id)
    db.session.rollback()
    assert _written(order.id) == before

    chained = _collections(app, two_sellers, True, frozen_now)
    assert chained == in_sequence
    assert _written(order.id) == written_in_sequence
    assert len(written_in_sequence["lines"]) == len(written_in_sequence["audit"]) == 3
