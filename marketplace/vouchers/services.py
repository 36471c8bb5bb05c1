"""Issuing vouchers when an order is paid, finding them at the counter, collecting, no-shows.

Collection locks the voucher row, then the order and the part (the voucher lock serialises
scans of one voucher; order then part is the order refunds use). Inside the lock it re-reads
what was already handed over; UNIQUE(order_line_id) on collected lines is the last guard.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from marketplace import audit
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import LockTimeout, db, is_lock_timeout, lock_rows, utcnow
from marketplace.errors import DomainError
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.orders.status import can_transition, transition
from marketplace.pickup.models import PickupSlot
from marketplace.vouchers import codes
from marketplace.vouchers.models import CollectedLine, Collection, Voucher

S = OrderStatus
COLLECTABLE = {S.PAID, S.READY_FOR_PICKUP, S.PARTIALLY_REFUNDED, S.NO_SHOW}
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
            date=format_date(collection.created_at, "short"),
            time=format_time(collection.created_at, "HH:mm"),
            name=collection.collected_by_name,
        ))


# --- issuing ---------------------------------------------------------------------------

def issue_vouchers(order: Order) -> list[Voucher]:
    """One voucher per part of a paid order (parts that have one keep it). Call inside the
    payment's unit of work, after the parts became paid."""
    vouchers = []
    for part in order.parts:
        existing = db.session.scalar(sa.select(Voucher).where(Voucher.order_part_id == part.id))
        vouchers.append(existing or _new_voucher(part))
    return vouchers


def _new_voucher(part: OrderPart) -> Voucher:
    for _attempt in range(CODE_ATTEMPTS):
        code = codes.new_code()
        if db.session.scalar(sa.select(Voucher.id).where(Voucher.code == code)) is None:
            break
    voucher = Voucher(order_part_id=part.id, token=codes.new_token(), code=code)
    # A code drawn at the same instant by another payment is caught by the UNIQUE constraint.
    try:
        with db.session.begin_nested():
            db.session.add(voucher)
            db.session.flush()
    except IntegrityError:
        voucher = Voucher(order_part_id=part.id, token=codes.new_token(), code=codes.new_code())
        db.session.add(voucher)
        db.session.flush()
    return voucher


def by_token(token: str) -> Voucher | None:
    if not codes.TOKEN_RE.match(token or ""):
        return None
    return db.session.scalar(sa.select(Voucher).where(Voucher.token == token))


# --- the counter -----------------------------------------------------------------------

class NotFound(DomainError):
    status_code = 404


def _scanned_filter(text: str | None):
    scanned = codes.parse_scanned(text)
    if scanned is None:
        raise NotFound(_l("This is not a voucher code. Scan the QR code again, or type the "
                          "8 characters printed under it."))
    if scanned.token:
        return Voucher.token == scanned.token
    return Voucher.code == scanned.code


def find_for_counter(text: str | None, organization) -> Voucher:
    """The voucher a scan or a typed code designates, if this seller may hand it over."""
    voucher = db.session.scalar(sa.select(Voucher).where(_scanned_filter(text)))
    if voucher is None:
        raise NotFound(_l("No voucher has this code. Check the characters and try again."))
    check_seller(voucher, organization)
    return voucher


def voucher_id_for(text: str | None) -> int:
    """Only the id of the voucher a scan designates (collect() checks the seller)."""
    voucher_id = db.session.scalar(sa.select(Voucher.id).where(_scanned_filter(text)))
    if voucher_id is None:
        raise NotFound(_l("No voucher has this code. Check the characters and try again."))
    return voucher_id


def check_seller(voucher: Voucher, organization) -> None:
    if voucher.part.organization_id != organization.id:
        raise Refused(
            _l("This voucher is for another seller: %(name)s. Nothing was handed over.",
               name=voucher.part.organization.name),
            status_code=403,
        )


def refusal(part: OrderPart) -> Refused | None:
    """Why this part's goods cannot be handed over now, or None."""
    status = part.status
    if status in (S.PENDING_PAYMENT, S.EXPIRED):
        return Refused(_l("This order is not paid. Do not hand anything over."))
    if status == S.CANCELLED:
        return Refused(_l("This order was cancelled. Do not hand anything over."))
    if status == S.REFUNDED:
        return Refused(_l("This order was refunded. Do not hand anything over."))
    if status == S.NO_SHOW and part.no_show_restocked_at is not None:
        return Refused(_l(
            "Nobody came for this order on %(date)s and its goods went back on sale. "
            "A manager can refund it.", date=format_date(part.slot.ends_at, "short")))
    return None


def lines_to_hand_over(part: OrderPart, collected_ids: set[int]) -> list[OrderLine]:
    return [line for line in part.lines
            if line.id not in collected_ids and line.quantity > line.refunded_quantity]


def collected_line_ids(voucher_id: int) -> set[int]:
    return set(db.session.scalars(
        sa.select(CollectedLine.order_line_id)
        .join(Collection, Collection.id == CollectedLine.collection_id)
        .where(Collection.voucher_id == voucher_id)
    ))


def last_collection(voucher_id: int) -> Collection | None:
    return db.session.scalar(
        sa.select(Collection).where(Collection.voucher_id == voucher_id)
        .order_by(Collection.id.desc()).limit(1)
    )


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
    done = collected_line_ids(voucher.id)
    view = CounterView(
        voucher=voucher, part=part,
        to_hand_over=lines_to_hand_over(part, done),
        collected=[line for line in part.lines if line.id in done],
    )
    view.refused = refusal(part)
    if view.refused is None and not view.to_hand_over:
        collection = last_collection(voucher.id)
        if collection is not None:
            view.refused = AlreadyCollected(collection)
        else:  # every line refunded
            view.refused = Refused(_l("Nothing is left to hand over on this voucher."))
    return view


@dataclass
class CollectResult:
    collection: Collection
    replayed: bool  # the same request came again: this is the first answer
    complete: bool  # everything on the voucher has now been handed over
    part: OrderPart
    order: Order


def collect(voucher_id: int, *, organization, by, nonce: str,
            line_ids: set[int] | None = None) -> CollectResult:
    """Hand over `line_ids` of the voucher (all that are left when None), once.

    The same `nonce` again returns the first result; a new scan of a voucher with nothing left
    raises AlreadyCollected; the voucher of another seller or of an order that is not paid (or
    was cancelled, refunded) raises Refused and changes nothing.

    A counter's hot path: about ten statements. The voucher row is locked first (it serialises
    the scans of one voucher), then the order (every change of an order's parts takes the
    order's lock first: payment, refunds, no-shows), so the part is read, not locked."""
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 64:
        raise DomainError(_l("This page is out of date. Scan the voucher again."))
    try:
        row = db.session.execute(
            sa.select(Voucher.id, Voucher.code, OrderPart.id, OrderPart.order_id,
                      OrderPart.organization_id)
            .join(OrderPart, OrderPart.id == Voucher.order_part_id)
            .where(Voucher.id == voucher_id)
            .with_for_update(of=Voucher)
        ).one_or_none()
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise LockTimeout() from exc
        raise
    if row is None:
        raise NotFound(_l("No voucher has this code. Check the characters and try again."))
    _, code, part_id, order_id, seller_id = row
    if seller_id != organization.id:
        check_seller(db.session.get(Voucher, voucher_id), organization)

    # What this voucher already gave: each collection with its lines, in one statement.
    history = db.session.execute(
        sa.select(Collection.id, Collection.nonce, CollectedLine.order_line_id)
        .join(CollectedLine, CollectedLine.collection_id == Collection.id)
        .where(Collection.voucher_id == voucher_id)
        .order_by(Collection.id)
    ).all()
    for collection_id, seen_nonce, _line in history:
        if seen_nonce == nonce:
            first = db.session.get(Collection, collection_id)
            part = db.session.get(OrderPart, part_id)
            return CollectResult(first, replayed=True, complete=part.collected_at is not None,
                                 part=part, order=part.order)
    done = {line_id for _, _, line_id in history}

    (order,) = lock_rows(Order, [order_id])
    part = db.session.scalars(
        sa.select(OrderPart).where(OrderPart.id == part_id)
        .options(sa.orm.lazyload("*"), sa.orm.selectinload(OrderPart.lines))
        .execution_options(populate_existing=True)
    ).one()
    refused = refusal(part)
    if refused is not None:
        raise refused
    remaining = lines_to_hand_over(part, done)
    chosen = remaining if line_ids is None else [line for line in remaining if line.id in line_ids]
    if not chosen:
        if remaining:
            raise DomainError(_l("Tick at least one line to hand over."))
        if history:
            raise AlreadyCollected(db.session.get(Collection, history[-1][0]))
        raise Refused(_l("Nothing is left to hand over on this voucher."))

    now = utcnow()
    collection = Collection(
        voucher_id=voucher_id, nonce=nonce, collected_by_id=by.id, collected_by_name=by.name,
        created_at=now,
        lines=[CollectedLine(order_line_id=line.id, quantity=line.quantity - line.refunded_quantity)
               for line in chosen],
    )
    db.session.add(collection)
    complete = len(chosen) == len(remaining)
    if complete:
        part.collected_at = now
        transition(part, S.COLLECTED)
        others = db.session.scalars(
            sa.select(OrderPart.status).where(OrderPart.order_id == order_id,
                                              OrderPart.id != part_id)
        ).all()
        if all(status in (S.COLLECTED, S.REFUNDED, S.CANCELLED) for status in others) \
                and can_transition(order.status, S.COLLECTED):
            transition(order, S.COLLECTED)
    audit.record("voucher.collected", part, by=by, organization=organization, data={
        "reference": order.reference,
        "voucher": code,
        "lines": [{"title": line.title, "quantity": line.quantity - line.refunded_quantity}
                  for line in chosen],
        "complete": complete,
    })
    return CollectResult(collection, replayed=False, complete=complete, part=part, order=order)


# --- slots and no-shows ----------------------------------------------------------------

def slot_parts(slot: PickupSlot) -> list[OrderPart]:
    return list(db.session.scalars(
        sa.select(OrderPart)
        .join(Order, Order.id == OrderPart.order_id)
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
                          time=format_time(slot.ends_at, "HH:mm")))
    candidates = db.session.scalars(
        sa.select(OrderPart.id).where(OrderPart.slot_id == slot.id,
                                      OrderPart.status.in_(NO_SHOW_CANDIDATES))
    ).all()
    marked = []
    for part_id in candidates:
        part = db.session.get(OrderPart, part_id)
        (order,) = lock_rows(Order, [part.order_id])
        (part,) = lock_rows(OrderPart, [part_id])
        if part.status not in NO_SHOW_CANDIDATES or part.collected_at is not None:
            continue
        voucher = db.session.scalar(sa.select(Voucher).where(Voucher.order_part_id == part.id))
        if voucher is not None and collected_line_ids(voucher.id):
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
