"""Issuing vouchers when an order is paid, finding them at the counter, collecting, no-shows.

Collection locks the voucher row, then the order and the part (the voucher lock serialises
scans of one voucher; order then part is the order refunds use). Inside the lock it re-reads
what was already handed over; UNIQUE(order_line_id) on collected lines is the last guard.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import audit, uow
from marketplace.audit.models import AuditEntry
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import db, lock_rows, lock_waits, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import format_clock, format_day
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.orders.status import IllegalTransition, can_transition, transition
from marketplace.pickup.models import PickupLocation, PickupSlot
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
_order_line = OrderLine.__table__
_audit_entry = AuditEntry.__table__


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


def _param(name: str, column: sa.Column) -> sa.BindParameter:
    """A named parameter typed as `column` (an enum member is written as the enum's value, a
    dict as the column's JSON)."""
    return sa.bindparam(name, type_=column.type)


def _value(value, column: sa.Column) -> sa.BindParameter:
    """A fixed value typed as `column`: the models' enums, never their values as SQL text."""
    return sa.literal(value, column.type)


class _Writes:
    """What a collection writes, defined once as SQLAlchemy Core statements built from the
    models' tables and enums: the collection, its lines (each the order line's quantity less
    what was refunded: read under the order's lock, so what the counter showed), the part and
    the order marked collected when `complete` / `order_complete` say so, and the audit line.

    `run_chained()` runs them as one statement (data-modifying CTEs, PostgreSQL): the voucher's
    and the order's locks are then held for two statements and the commit. `run_in_sequence()`
    runs the same statements one after the other (SQLite, which has no data-modifying CTEs);
    the lines' statement then reads the collection's id from a parameter instead of the first
    statement's row. Each statement is built once: SQLAlchemy caches its compiled form. Both take the same parameters (`parameters()`), named after no column of
    the tables they write: Core would add such a key to an UPDATE's SET clause."""

    c, line, part, order = _collection.c, _order_line.c, _part.c, _order.c
    now = _param("now", c.created_at)

    insert_collection = (
        sa.insert(_collection)
        .values(voucher_id=_param("voucher_id", c.voucher_id), nonce=_param("nonce", c.nonce),
                collected_by_id=_param("by_id", c.collected_by_id),
                collected_by_name=_param("by_name", c.collected_by_name), created_at=now)
        .returning(c.id)
    )

    @classmethod
    def insert_lines(cls, collection_id: sa.ColumnElement[int]) -> sa.Insert:
        """The chosen lines (`line_ids`) of the collection whose id `collection_id` gives."""
        line = cls.line
        return sa.insert(_collected_line).from_select(
            ["collection_id", "order_line_id", "quantity"],
            sa.select(collection_id, line.id, line.quantity - line.refunded_quantity)
            .where(line.id.in_(sa.bindparam("line_ids", expanding=True)))
            .order_by(line.id),
        )

    mark_part = (
        sa.update(_part)
        .where(part.id == _param("part", part.id), sa.bindparam("complete", type_=sa.Boolean))
        .values(status=_value(S.COLLECTED, part.status), collected_at=now)
    )
    mark_order = (
        sa.update(_order)
        .where(order.id == _param("order", order.id),
               sa.bindparam("order_complete", type_=sa.Boolean))
        .values(status=_value(S.COLLECTED, order.status), updated_at=now)
    )
    insert_audit = sa.insert(_audit_entry).values(
        {column: _param(f"audit_{column.name}", column)
         for column in _audit_entry.c if column.name != "id"})

    @staticmethod
    def parameters(*, voucher_id, nonce, by, now, chosen, part_id, complete, order_id,
                   order_complete, audit_values) -> dict:
        return {
            "voucher_id": voucher_id, "nonce": nonce, "by_id": by.id, "by_name": by.name,
            "now": now, "line_ids": [h.line_id for h in chosen], "part": part_id,
            "complete": complete, "order": order_id, "order_complete": order_complete,
            **{f"audit_{key}": value for key, value in audit_values.items()},
        }

    @classmethod
    @cache
    def chained(cls) -> sa.Select:
        """Every write in one statement, the collection's id as its row."""
        collection = cls.insert_collection.cte("collection_row")
        return sa.select(collection.c.id).add_cte(
            cls.insert_lines(sa.select(collection.c.id).scalar_subquery()).cte("line_rows"),
            cls.mark_part.cte("part_row"),
            cls.mark_order.cte("order_row"),
            cls.insert_audit.cte("audit_row"),
        )

    @classmethod
    def run_chained(cls, connection, parameters: dict) -> int:
        return connection.execute(cls.chained(), parameters).scalar_one()

    @classmethod
    @cache
    def insert_lines_of_given_collection(cls) -> sa.Insert:
        return cls.insert_lines(_param("collection_id", _collected_line.c.collection_id))

    @classmethod
    def run_in_sequence(cls, connection, parameters: dict) -> int:
        collection_id = connection.execute(cls.insert_collection, parameters).scalar_one()
        connection.execute(cls.insert_lines_of_given_collection(),
                           {**parameters, "collection_id": collection_id})
        for statement in (cls.mark_part, cls.mark_order, cls.insert_audit):
            connection.execute(statement, parameters)
        return collection_id


def collect(voucher_id: int, *, organization, by, nonce: str,
            line_ids: set[int] | None = None, chained: bool | None = None) -> CollectResult:
    """Hand over `line_ids` of the voucher (all that are left when None), once.

    The same `nonce` again returns the first result; a new scan of a voucher with nothing left
    raises AlreadyCollected; the voucher of another seller or of an order that is not paid (or
    was cancelled, refunded) raises Refused and changes nothing. `chained` forces one way of
    writing (tests): see _Writes."""
    return _collect("id", voucher_id, organization=organization, by=by, nonce=nonce,
                    line_ids=line_ids, chained=chained)


def collect_scanned(text: str | None, *, organization, by, nonce: str,
                    line_ids: set[int] | None = None, chained: bool | None = None
                    ) -> CollectResult:
    """collect() for what a scanner read or a person typed (the voucher URL, token or code):
    the voucher is found and locked by the same statement."""
    column, key = _scanned_key(text)
    return _collect(column, key, organization=organization, by=by, nonce=nonce,
                    line_ids=line_ids, chained=chained)


def _collect(column: str, key, *, organization, by, nonce: str, line_ids: set[int] | None,
             chained: bool | None) -> CollectResult:
    """The counter's hot path, without the ORM's unit of work: three statements on PostgreSQL
    (lock, read, one write), seven elsewhere (the same writes one by one: _Writes).

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
    nonce = _checked_nonce(nonce)
    session = db.session
    session.flush()
    connection = session.connection()
    locked = _lock_voucher(connection, column, key, organization)
    # Read after the locks: a collection committed while this request waited is seen here.
    rows = connection.execute(_PARTS, {"part_id": locked.part_id, "order_id": locked.order_id,
                                       "voucher_id": locked.voucher_id}).all()
    lines = [r for r in rows if r.part_id == locked.part_id and r.line_id is not None]
    first = next((line.collection_id for line in lines if line.nonce == nonce), None)
    if first is not None:
        return _first_answer(first, locked.voucher_id, locked.reference, locked.name)
    part_row = next(r for r in rows if r.part_id == locked.part_id)
    chosen, complete = _lines_to_collect(part_row, lines, line_ids)
    order_complete = complete and _order_done(locked, rows)
    now = utcnow()
    parameters = _Writes.parameters(
        voucher_id=locked.voucher_id, nonce=nonce, by=by, now=now, chosen=chosen,
        part_id=locked.part_id, complete=complete, order_id=locked.order_id,
        order_complete=order_complete,
        audit_values=_audit_values(locked, chosen, complete, organization=organization, by=by))
    if chained is None:
        chained = connection.dialect.name == "postgresql"
    if chained:
        collection_id = _Writes.run_chained(connection, parameters)
    else:
        collection_id = _Writes.run_in_sequence(connection, parameters)
    return CollectResult(collection_id, locked.voucher_id, now, chosen, replayed=False,
                         complete=complete, reference=locked.reference, name=locked.name)


def _checked_nonce(nonce: str | None) -> str:
    """The counter page's nonce, or DomainError when the page sent none (or a forged one)."""
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 64:
        raise DomainError(_l("This page is out of date. Scan the voucher again."))
    return nonce


def _lock_voucher(connection, column: str, key, organization):
    """The voucher's and its order's row (see _locking), locked; NotFound, or Refused when the
    voucher is another seller's."""
    with lock_waits():
        row = connection.execute(_locking(column), {"key": key}).one_or_none()
    if row is None:
        raise _no_voucher()
    if row.seller_id != organization.id:
        check_seller(db.session.get(Voucher, row.voucher_id), organization)
    return row


def _lines_to_collect(part_row, lines, line_ids: set[int] | None
                      ) -> tuple[list[HandedOver], bool]:
    """The lines to hand over now (those of `line_ids` still due; all still due when None) and
    whether they complete the part; Refused (AlreadyCollected) or DomainError when none."""
    status = part_row.status
    if refuses(status, part_row.no_show_restocked_at):
        raise refusal(db.session.get(OrderPart, part_row.part_id))
    remaining = [HandedOver(r.line_id, r.title, r.quantity - r.refunded_quantity)
                 for r in lines
                 if r.collected_line_id is None and r.quantity > r.refunded_quantity]
    chosen = remaining if line_ids is None else [h for h in remaining if h.line_id in line_ids]
    if not chosen:
        if remaining:
            raise DomainError(_l("Tick at least one line to hand over."))
        last = max((r.collection_id for r in lines if r.collection_id is not None), default=None)
        if last is not None:
            raise AlreadyCollected(db.session.get(Collection, last))
        raise Refused(_l("Nothing is left to hand over on this voucher."))
    complete = len(chosen) == len(remaining)
    if complete and not can_transition(status, S.COLLECTED):
        raise IllegalTransition(_l("This order cannot go from %(current)s to %(new)s.",
                                   current=status.value, new=S.COLLECTED.value))
    return chosen, complete


def _order_done(locked, rows) -> bool:
    """Whether the order is collected once the scanned part is: every other part is collected,
    refunded or cancelled."""
    return can_transition(locked.order_status, S.COLLECTED) and all(
        r.status in (S.COLLECTED, S.REFUNDED, S.CANCELLED)
        for r in rows if r.part_id != locked.part_id)


def _audit_values(locked, chosen: list[HandedOver], complete: bool, *, organization, by) -> dict:
    return audit.values(
        "voucher.collected", subject_type="OrderPart", subject_id=locked.part_id, by=by,
        organization_id=organization.id, data={
            "reference": locked.reference,
            "voucher": locked.code,
            "lines": [{"title": h.title, "quantity": h.quantity} for h in chosen],
            "complete": complete,
        })


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

def slots_with_paid_parts(organization_id: int, *, since: datetime, until: datetime) -> list:
    """The seller's slots that end after `since` and start before `until`, in time order, each
    with the number of its parts in the slot's list (paid and later), as rows (slot, parts);
    slots with no such part are left out."""
    counts = (
        sa.select(OrderPart.slot_id, sa.func.count().label("parts"))
        .where(OrderPart.status.in_(IN_SLOT_LIST), OrderPart.organization_id == organization_id)
        .group_by(OrderPart.slot_id)
        .subquery()
    )
    return db.session.execute(
        sa.select(PickupSlot, counts.c.parts)
        .join(PickupSlot.location)
        .join(counts, counts.c.slot_id == PickupSlot.id)
        .where(PickupLocation.organization_id == organization_id,
               PickupSlot.ends_at >= since, PickupSlot.starts_at < until)
        .order_by(PickupSlot.starts_at, PickupSlot.id)
    ).all()


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
