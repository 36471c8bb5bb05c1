"""What a checkout writes (orders.services._write_order: one statement on PostgreSQL, an INSERT
per table elsewhere) is what it hands back: the order, its parts and lines as objects of the
session, equal column for column to the rows read back from the database, and the holds of
every line and every part's slot."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import Hold, HoldState, Order, OrderLine, OrderPart, OrderStatus
from tests.orders.helpers import make_cart, place_order


def _columns(obj) -> dict:
    return {column.key: getattr(obj, column.key) for column in type(obj).__table__.c}


def test_the_objects_a_checkout_returns_are_its_rows(market):
    # Two sellers, the first with two products, the lines not in the sellers' or ids' order.
    canal, loire = market.canal.id, market.loire.id
    canal_slot, loire_slot = market.canal_slots[1].id, market.loire_slots[0].id
    bowl, jam, lamp = market.bowl.id, market.jam.id, market.lamp.id
    cart = make_cart((market.bowl, 2), (market.jam, 3), (market.lamp, 1))
    order = place_order(cart, {market.canal: market.canal_slots[1],
                               market.loire: market.loire_slots[0]}, email=" Ada@Example.org ")
    returned = {
        "order": _columns(order),
        "parts": {part.id: _columns(part) for part in order.parts},
        "lines": {line.id: _columns(line) for part in order.parts for line in part.lines},
        "lines_of": {part.id: [line.id for line in part.lines] for part in order.parts},
    }
    assert all(line.part is part and part.order is order
               for part in order.parts for line in part.lines)
    db.session.commit()
    db.session.expunge_all()  # everything below is read from the database

    stored = db.session.get(Order, returned["order"]["id"])
    assert _columns(stored) == returned["order"]
    assert stored.reference == f"ESS-{stored.created_at.year}-{stored.id:06d}"
    assert (stored.email, stored.status, stored.total_cents) == (
        "ada@example.org", OrderStatus.PENDING_PAYMENT, 2 * 1250 + 3 * 450 + 1500)
    parts = db.session.scalars(sa.select(OrderPart).where(OrderPart.order_id == stored.id)).all()
    assert {part.id: _columns(part) for part in parts} == returned["parts"]
    assert {part.organization_id: (part.slot_id, part.subtotal_cents) for part in parts} == {
        canal: (canal_slot, 3 * 450 + 1500),
        loire: (loire_slot, 2 * 1250)}
    lines = db.session.scalars(sa.select(OrderLine).where(
        OrderLine.part_id.in_([part.id for part in parts]))).all()
    assert {line.id: _columns(line) for line in lines} == returned["lines"]
    assert {part.id: sorted(line.id for line in part.lines) for part in parts} == {
        part_id: sorted(ids) for part_id, ids in returned["lines_of"].items()}
    by_product = {line.product_id: line for line in lines}
    assert (by_product[jam].quantity, by_product[jam].is_perishable,
            by_product[jam].vat_rate_bp, by_product[jam].title) == (
        3, True, 550, "Confiture de fraises")

    holds = db.session.scalars(sa.select(Hold).where(Hold.order_id == stored.id)).all()
    assert sorted((h.product_id or 0, h.slot_id or 0, h.quantity) for h in holds) == sorted([
        (bowl, 0, 2), (jam, 0, 3), (lamp, 0, 1),
        (0, canal_slot, 1), (0, loire_slot, 1)])
    assert {(h.state, h.expires_at) for h in holds} == {(HoldState.HELD, stored.hold_expires_at)}
