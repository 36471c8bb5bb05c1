"""Issuing vouchers when an order is paid, finding them at the counter, collecting, no-shows.

Collection locks the voucher row, then the order and the part (the voucher lock serialises
scans of one voucher; order then part is the order refunds use). Inside the lock it re-reads
what was already handed over; UNIQUE(order_line_id) on collected lines is the last guard.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import audit, uow
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import db, lock_rows, lock_waits, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import format_clock, format_day
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.orders.status import IllegalTransition, can_transition, transition
from marketplace.pickup.models import PickupSlot
from marketplace.vouchers import codes
from marketplace.vouchers.models import CollectedLine, Collection, Voucher

S = OrderStatus
# Parts shown in a slot's list: the ones a shopper paid for.
IN_SLOT_LIST = (S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED, S.NO_SHOW,
                S.REFUNDED)
NO_SHOW_CANDIDATES = (S.PAID, S.READY_FOR_PICKUP, S.PARTIALLY_REFUNDED)
CODE_ATTEMPTS = 5


class Refused(DomainError):
    """The counter must not hand over these goods; the message says why."""

    status_code = 409


class AlreadyCollected(Refused):
    def __init__(self, collection: Collection):
        self.collection = collection
        super().__init__(_l(
            "Already collected on %(date)s at %(time)s by %(name)s.",
            date=format_day(collection.created_at, "long"),
            time=format_clock(collection.created_at),
            name=collection.collected_by_name,
        ))


# --- issuing ---------------------------------------------------------------------------

def issue_vouchers(order: Order) -> list[Voucher]:
    """One voucher per part of a paid order (parts that have one keep it). Call inside the
    payment's unit of work, after the parts became paid."""
    existing = {v.order_part_id: v for v in db.session.scalars(
        sa.select(Voucher).where(Voucher.order_part_id.in_([p.id for p in order.parts])))}
    return [existing.get(part.id) or _new_voucher(part) for part in order.parts]


def _new_voucher(part: OrderPart) -> Voucher:
    """A code drawn twice (one chance in billions) is caught by the UNIQUE constraint inside a
    savepoint, and drawn again."""
    for attempt in range(CODE_ATTEMPTS):
        voucher = Voucher(order_part_id=part.id, token=codes.new_token(), code=codes.new_code())
        try:
            with uow.savepoint():
                db.session.add(voucher)
                db.session.flush()
            return voucher
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def by_token(token: str) -> Voucher | None:
    if not codes.TOKEN_RE.match(token or ""):
        return None
    return db.session.scalar(sa.select(Voucher).where(Voucher.token == token))


# --- the counter -----------------------------------------------------------------------

class NotFound(DomainError):
    status_code = 404


def _scanned_key(text: str | None) -> tuple[str, str]:
    """The Voucher column and value a scan or a typed code designates."""
    scanned = codes.parse_scanned(text)
    if scanned is None:
        raise NotFound(_l("This is not a voucher code. Scan the QR code again, or type the "
                          "8 characters printed under it."))
    return ("token", scanned.token) if scanned.token else ("code", scanned.code)


def _no_voucher() -> NotFound:
    return NotFound(_l("No voucher has this code. Check the characters and try again."))


# What the counter page shows of a voucher, read with it: the part (joined by the model), its
# order, and the collections so far (each with its lines).
COUNTER_PAGE = (sa.orm.joinedload(Voucher.part).joinedload(OrderPart.order),
                sa.orm.selectinload(Voucher.collections))


def find_for_counter(text: str | None, organization) -> Voucher:
    """The voucher a scan or a typed code designates, if this seller may hand it over."""
    column, key = _scanned_key(text)
    voucher = db.session.scalar(
        sa.select(Voucher).where(getattr(Voucher, column) == key).options(*COUNTER_PAGE))
    if voucher is None:
        raise _no_voucher()
    check_seller(voucher, organization)
    return voucher


def check_seller(voucher: Voucher, organization) -> None:
    if voucher.part.organization_id != organization.id:
        raise Refused(
            _l("This voucher is for another seller: %(name)s. Nothing was handed over.",
               name=voucher.part.organization.name),
            status_code=403,
        )


REFUSED = (S.PENDING_PAYMENT, S.EXPIRED, S.CANCELLED, S.REFUNDED)


def refuses(status: OrderStatus, no_show_restocked_at: datetime | None) -> bool:
    """Whether refusal() has a reason for a part in this state (without loading the part)."""
    return status in REFUSED or (status == S.NO_SHOW and no_show_restocked_at is not None)


def refusal(part: OrderPart) -> Refused | None:
    """Why this part's goods cannot be handed over now, or None."""
    status = part.status
    if not refuses(status, part.no_show_restocked_at):
        return None
    if status in (S.PENDING_PAYMENT, S.EXPIRED):
        return Refused(_l("This order is not paid. Do not hand anything over."))
    if status == S.CANCELLED:
        return Refused(_l("This order was cancelled. Do not hand anything over."))
    if status == S.REFUNDED:
        return Refused(_l("This order was refunded. Do not hand anything over."))
    return Refused(_l(  # a no-show whose goods went back on sale
        "Nobody came for this order on %(date)s and its goods went back on sale. "
        "A manager can refund it.", date=format_day(part.slot.ends_at, "full")))


def lines_to_hand_over(part: OrderPart, collected_ids: set[int]) -> list[OrderLine]:
    return [line for line in part.lines
            if line.id not in collected_ids and line.quantity > line.refunded_quantity]


def _anything_collected(part_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        Collection.voucher_id == Voucher.id, Voucher.order_part_id == part_id)))


@dataclass
class CounterView:
    """What the counter shows for a scanned voucher."""

    voucher: Voucher
    part: OrderPart
    to_hand_over: list[OrderLine]
    collected: list[OrderLine] = field(default_factory=list)
    refused: Refused | None = None


def counter_view(voucher: Voucher) -> CounterView:
    part = voucher.part
    collections = voucher.collections  # in id order
    done = {line.order_line_id for collection in collections for line in collection.lines}
    view = CounterView(
        voucher=voucher, part=part,
        to_hand_over=lines_to_hand_over(part, done),
        collected=[line for line in part.lines if line.id in done],
    )
    view.refused = refusal(part)
    if view.refused is None and not view.to_hand_over:
        if collections:
            view.refused = AlreadyCollected(collections[-1])
        else:  # every line refunded
            view.refused = Refused(_l("Nothing is left to hand over on this voucher."))
    return view


@dataclass
class HandedOver:
    line_id: int
    title: str
    quantity: int


@dataclass
class CollectResult:
    """What a collection handed over, as the counter shows it. Plain values: the hot path
    writes with plain statements and loads no model instance."""

    collection_id: int
    voucher_id: int
    created_at: datetime
    lines: list[HandedOver]
    replayed: bool  # the same request came again: this is the first answer
    complete: bool  # everything on the voucher has now been handed over
    reference: str
    name: str


_collection = Collection.__table__
_collected_line = CollectedLine.__table__
_part = OrderPart.__table__
_order = Order.__table__


@cache
def _locking(column: str) -> sa.Select:
    """The voucher whose `column` is :key and its order, both locked (FOR UPDATE OF voucher,
    order: the part is read, not locked), with what the counter needs of them."""
    return (
        sa.select(Voucher.id.label("voucher_id"), Voucher.code, OrderPart.id.label("part_id"),
                  OrderPart.organization_id.label("seller_id"), Order.id.label("order_id"),
                  Order.reference, Order.name, Order.status.label("order_status"))
        .join(OrderPart, OrderPart.id == Voucher.order_part_id)
        .join(Order, Order.id == OrderPart.order_id)
        .where(getattr(Voucher, column) == sa.bindparam("key"))
        .with_for_update(of=(Voucher, Order))
    )


# Every part of the order (their statuses say whether the order is complete), with the lines
# of the scanned part only (the other parts' rows have NULL lines) and, for each line, the
# collection of this voucher that handed it over, if any. That is the voucher's whole history:
# a collection always hands over lines of the voucher's part, and a line at most once
# (UNIQUE(order_line_id)).
_PARTS = (
    sa.select(OrderPart.id.label("part_id"), OrderPart.status, OrderPart.no_show_restocked_at,
              OrderLine.id.label("line_id"), OrderLine.title, OrderLine.quantity,
              OrderLine.refunded_quantity, CollectedLine.id.label("collected_line_id"),
              Collection.id.label("collection_id"), Collection.nonce)
    .outerjoin(OrderLine, sa.and_(OrderLine.part_id == OrderPart.id,
                                  OrderPart.id == sa.bindparam("part_id")))
    .outerjoin(CollectedLine, CollectedLine.order_line_id == OrderLine.id)
    .outerjoin(Collection, sa.and_(Collection.id == CollectedLine.collection_id,
                                   Collection.voucher_id == sa.bindparam("voucher_id")))
    .where(OrderPart.order_id == sa.bindparam("order_id"))
    .order_by(OrderPart.id, OrderLine.id)
)
_INSERT_COLLECTION = sa.insert(_collection).returning(_collection.c.id)
_INSERT_LINES = sa.insert(_collected_line)
_PART_COLLECTED = (
    sa.update(_part).where(_part.c.id == sa.bindparam("part_id"))
    .values(status=S.COLLECTED, collected_at=sa.bindparam("now"))
)
_ORDER_COLLECTED = (
    sa.update(_order).where(_order.c.id == sa.bindparam("order_id"))
    .values(status=S.COLLECTED, updated_at=sa.bindparam("now"))
)


def collect(voucher_id: int, *, organization, by, nonce: str,
            line_ids: set[int] | None = None) -> CollectResult:
    """Hand over `line_ids` of the voucher (all that are left when None), once.

    The same `nonce` again returns the first result; a new scan of a voucher with nothing left
    raises AlreadyCollected; the voucher of another seller or of an order that is not paid (or
    was cancelled, refunded) raises Refused and changes nothing."""
    return _collect("id", voucher_id, organization=organization, by=by, nonce=nonce,
                    line_ids=line_ids)


def collect_scanned(text: str | None, *, organization, by, nonce: str,
                    line_ids: set[int] | None = None) -> CollectResult:
    """collect() for what a scanner read or a person typed (the voucher URL, token or code):
    the voucher is found and locked by the same statement."""
    column, key = _scanned_key(text)
    return _collect(column, key, organization=organization, by=by, nonce=nonce,
                    line_ids=line_ids)


def _collect(column: str, key, *, organization, by, nonce: str,
             line_ids: set[int] | None) -> CollectResult:
    """The counter's hot path, without the ORM's unit of work: three statements on PostgreSQL
    (lock, read, one write), up to seven on SQLite, which writes one table at a time.

    The voucher row and its order are locked first, by one statement (the voucher's lock
    serialises the scans of one voucher; every change of an order's parts takes the order's
    lock first: payment, refunds, no-shows), so what is read next is current: the part, its
    lines with what was handed over of each, and the sibling parts' statuses. Then the collection
    and its lines are inserted, the part (and the order when every part is done) marked
    collected, and the audit line written. UNIQUE(order_line_id) on collected lines is the
    last guard.

    The statements are Core statements: they run on the session's connection (its
    transaction), which skips the ORM's execution layer (a tenth of a millisecond of CPU each).
    Whatever the ORM has pending is flushed first, as session.execute would."""
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 64:
        raise DomainError(_l("This page is out of date. Scan the voucher again."))
    session = db.session
    session.flush()
    connection = session.connection()
    with lock_waits():
        row = connection.execute(_locking(column), {"key": key}).one_or_none()
    if row is None:
        raise _no_voucher()
    voucher_id, part_id, order_id = row.voucher_id, row.part_id, row.order_id
    reference, name = row.reference, row.name
    if row.seller_id != organization.id:
        check_seller(session.get(Voucher, voucher_id), organization)

    # Read after the locks: a collection committed while this request waited is seen here.
    rows = connection.execute(_PARTS, {"part_id": part_id, "order_id": order_id,
                                    "voucher_id": voucher_id}).all()
    lines = [r for r in rows if r.part_id == part_id and r.line_id is not None]
    for line in lines:
        if line.nonce == nonce:
            return _first_answer(line.collection_id, voucher_id, reference, name)
    part_row = next(r for r in rows if r.part_id == part_id)
    status = part_row.status
    if refuses(status, part_row.no_show_restocked_at):
        raise refusal(session.get(OrderPart, part_id))
    remaining = [HandedOver(r.line_id, r.title, r.quantity - r.refunded_quantity)
                 for r in lines
                 if r.collected_line_id is None and r.quantity > r.refunded_quantity]
    chosen = remaining if line_ids is None else [h for h in remaining if h.line_id in line_ids]
    if not chosen:
        if remaining:
            raise DomainError(_l("Tick at least one line to hand over."))
        last = max((r.collection_id for r in lines if r.collection_id is not None), default=None)
        if last is not None:
            raise AlreadyCollected(session.get(Collection, last))
        raise Refused(_l("Nothing is left to hand over on this voucher."))
    complete = len(chosen) == len(remaining)
    if complete and not can_transition(status, S.COLLECTED):
        raise IllegalTransition(_l("This order cannot go from %(current)s to %(new)s.",
                                   current=status.value, new=S.COLLECTED.value))

    now = utcnow()
    others = [r.status for r in rows if r.part_id != part_id]
    order_complete = complete and can_transition(row.order_status, S.COLLECTED) and all(
        s in (S.COLLECTED, S.REFUNDED, S.CANCELLED) for s in others)
    audit_values = audit.values(
        "voucher.collected", subject_type="OrderPart", subject_id=part_id, by=by,
        organization_id=organization.id, data={
            "reference": reference,
            "voucher": row.code,
            "lines": [{"title": h.title, "quantity": h.quantity} for h in chosen],
            "complete": complete,
        })
    if connection.dialect.name == "postgresql":
        collection_id = connection.execute(_WRITE_COLLECTION, {
            "voucher_id": voucher_id, "nonce": nonce, "by_id": by.id, "by_name": by.name,
            "now": now, "line_ids": [h.line_id for h in chosen],
            "quantities": [h.quantity for h in chosen], "part_id": part_id,
            "complete": complete, "order_id": order_id, "order_complete": order_complete,
            **{f"audit_{key}": value for key, value in audit_values.items()},
            "audit_data": json.dumps(audit_values["data"]),
        }).scalar_one()
        return CollectResult(collection_id, voucher_id, now, chosen, replayed=False,
                             complete=complete, reference=reference, name=name)
    collection_id = connection.execute(_INSERT_COLLECTION, {
        "voucher_id": voucher_id, "nonce": nonce, "collected_by_id": by.id,
        "collected_by_name": by.name, "created_at": now,
    }).scalar_one()
    connection.execute(_INSERT_LINES, [
        {"collection_id": collection_id, "order_line_id": h.line_id, "quantity": h.quantity}
        for h in chosen])
    if complete:
        connection.execute(_PART_COLLECTED, {"part_id": part_id, "now": now})
    if order_complete:
        connection.execute(_ORDER_COLLECTED, {"order_id": order_id, "now": now})
    audit.insert_values(audit_values)
    return CollectResult(collection_id, voucher_id, now, chosen, replayed=False,
                         complete=complete, reference=reference, name=name)


# PostgreSQL: what a collection writes, in ONE statement (the SQLite path above runs the same
# writes one by one): the collection, its lines, the part and the order marked collected when
# they are, and the audit line. The voucher's and the order's locks, taken by _locking, are
# then held for two statements and the commit.
_WRITE_COLLECTION = sa.text("""
WITH collection_row AS (
    INSERT INTO collection (voucher_id, nonce, collected_by_id, collected_by_name, created_at)
    VALUES (:voucher_id, :nonce, :by_id, :by_name, :now)
    RETURNING id
), line_rows AS (
    INSERT INTO collected_line (collection_id, order_line_id, quantity)
    SELECT collection_row.id, handed.line_id, handed.quantity
    FROM collection_row,
         unnest(CAST(:line_ids AS integer[]), CAST(:quantities AS integer[]))
             AS handed(line_id, quantity)
), part_row AS (
    UPDATE order_part SET status = 'collected', collected_at = :now
    WHERE id = :part_id AND :complete
), order_row AS (
    UPDATE "order" SET status = 'collected', updated_at = :now
    WHERE id = :order_id AND :order_complete
), audit_row AS (
    INSERT INTO audit_entry (created_at, action, actor_id, organization_id, subject_type,
                             subject_id, data, ip_address)
    VALUES (:audit_created_at, :audit_action, :audit_actor_id, :audit_organization_id,
            :audit_subject_type, :audit_subject_id, CAST(:audit_data AS json), :audit_ip_address)
)
SELECT id FROM collection_row
""")


def _first_answer(collection_id, voucher_id, reference, name) -> CollectResult:
    """The answer a collection gave, for a retry of its request (same nonce)."""
    rows = db.session.execute(
        sa.select(Collection.created_at, CollectedLine.order_line_id, OrderLine.title,
                  CollectedLine.quantity, OrderPart.collected_at)
        .join(CollectedLine, CollectedLine.collection_id == Collection.id)
        .join(OrderLine, OrderLine.id == CollectedLine.order_line_id)
        .join(OrderPart, OrderPart.id == OrderLine.part_id)
        .where(Collection.id == collection_id)
        .order_by(CollectedLine.id)
    ).all()
    return CollectResult(collection_id, voucher_id, rows[0].created_at,
                         [HandedOver(r.order_line_id, r.title, r.quantity) for r in rows],
                         replayed=True, complete=rows[0].collected_at is not None,
                         reference=reference, name=name)


# --- slots and no-shows ----------------------------------------------------------------

def slot_parts(slot: PickupSlot) -> list[OrderPart]:
    return list(db.session.scalars(
        sa.select(OrderPart)
        .join(Order, Order.id == OrderPart.order_id)
        .options(sa.orm.contains_eager(OrderPart.order))  # each row's order: no query per part
        .where(OrderPart.slot_id == slot.id, OrderPart.status.in_(IN_SLOT_LIST))
        .order_by(sa.func.lower(Order.name), Order.id)
    ))


def vouchers_of(parts) -> dict[int, Voucher]:
    ids = [p.id for p in parts]
    if not ids:
        return {}
    return {v.order_part_id: v for v in db.session.scalars(
        sa.select(Voucher).where(Voucher.order_part_id.in_(ids)))}


def collections_of(vouchers) -> dict[int, list[Collection]]:
    """Collections per order part id."""
    by_voucher = {v.id: v.order_part_id for v in vouchers}
    result: dict[int, list[Collection]] = {}
    if not by_voucher:
        return result
    for collection in db.session.scalars(
        sa.select(Collection).where(Collection.voucher_id.in_(by_voucher))
        .order_by(Collection.id)
    ):
        result.setdefault(by_voucher[collection.voucher_id], []).append(collection)
    return result


class TooEarly(DomainError):
    status_code = 409


def mark_no_shows(slot: PickupSlot, *, organization, by, now: datetime | None = None) -> list:
    """After the slot ended, mark its paid parts nobody came for (nothing collected) as no-shows.
    Their goods go back on sale when the seller's setting says so (stock movements "no_show")."""
    now = now or utcnow()
    if slot.ends_at > now:
        raise TooEarly(_l("This slot has not ended yet: wait until %(time)s to mark no-shows.",
                          time=format_clock(slot.ends_at)))
    candidates = db.session.execute(
        sa.select(OrderPart.id, OrderPart.order_id).where(
            OrderPart.slot_id == slot.id, OrderPart.status.in_(NO_SHOW_CANDIDATES))
    ).all()
    marked = []
    for candidate in candidates:
        # every change of a part takes its order first
        (order,) = lock_rows(Order, [candidate.order_id])
        (part,) = lock_rows(OrderPart, [candidate.id])
        part_id = candidate.id
        if part.status not in NO_SHOW_CANDIDATES or part.collected_at is not None:
            continue
        if _anything_collected(part_id):
            continue  # the shopper came and took part of it
        transition(part, S.NO_SHOW)
        part.no_show_at = now
        restocked = []
        if organization.restock_no_shows:
            part.no_show_restocked_at = now
            wanted = {line.product_id: 0 for line in part.lines}
            for line in part.lines:
                wanted[line.product_id] += line.quantity - line.refunded_quantity
            for product in lock_rows(Product, wanted):
                if product.stock is not None and wanted[product.id] > 0:
                    catalog.adjust_stock(product, delta=wanted[product.id],
                                         reason=StockReason.NO_SHOW, by=by,
                                         reference=order.reference,
                                         note=f"no-show {order.reference}")
                    restocked.append(product.id)
        db.session.flush()
        audit.record("voucher.no_show", part, by=by, organization=organization, data={
            "reference": order.reference, "slot_id": slot.id, "restocked": bool(restocked),
        })
        marked.append(part)
    return marked
