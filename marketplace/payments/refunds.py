"""Refunds: staff refunds of a paid order part (whole or per line), the automatic refund of a
payment that came after the goods were sold to someone else, and refunds made from the
Stripe dashboard (charge.refunded).

A staff refund is recorded (pending) and made durable BEFORE the gateway is called (a named
durable step, marketplace.uow): its row gives the idempotency key, counts against what is left
to refund, lets a crash be finished later, and its locks are released before the call. Once
the gateway has answered, the answer is recorded at once (a second durable step): the money
moved, and nothing that fails later in the unit may lose that record. A refusal marks the row
failed and changes nothing else.
"""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa

from marketplace import audit, uow
from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import db, lock_rows, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.orders import payment_methods
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.orders.status import REFUNDABLE, can_transition, transition
from marketplace.payments.gateway import GatewayError, gateway_named
from marketplace.payments.models import Refund, RefundStatus
from marketplace.payments.signals import part_refunded
from marketplace.pickup.models import PickupSlot

log = logging.getLogger(__name__)

S = OrderStatus
LATE_PAYMENT = "late_payment"
OUTSIDE = "refunded_at_gateway"


class RefundError(DomainError):
    status_code = 409


# --- staff refunds ---------------------------------------------------------------------------


def refund_part(
    part: OrderPart,
    *,
    quantities: dict[int, int] | None,
    by,
    reason: str,
    goods_returned: bool = False,
) -> Refund:
    """Refund a paid order part: everything left (quantities None) or {order_line_id: quantity}.

    Stock comes back for goods not yet collected, or collected and brought back
    (goods_returned, e.g. a withdrawal). Commits twice around the gateway call (see the module
    docstring). Raises RefundError, with nothing changed but a failed refund row, when the
    gateway refuses."""
    refund = _record_part_refund(part.id, quantities, by=by, reason=reason,
                                 goods_returned=goods_returned)
    # Named durable step: the refund's intent is on disk, and its locks released, before the
    # gateway is asked to move the money (docs/architecture.md, Named exceptions).
    uow.durable_step()
    return send_refund(refund)


def cancel_part(part: OrderPart, *, by, reason: str) -> Refund:
    """Staff cancel a paid part: everything not yet refunded is refunded, the part ends
    REFUNDED, its stock and its pickup place come back (when not collected)."""
    return refund_part(part, quantities=None, by=by, reason=reason)


def parts_of_refunds(refund_ids) -> dict[int, int | None]:
    """{refund id: the order part it refunded (None: the whole order's)} for `refund_ids`."""
    if not refund_ids:
        return {}
    return {row.id: row.part_id for row in db.session.execute(
        sa.select(Refund.id, Refund.part_id).where(Refund.id.in_(refund_ids)))}


def _pending(order_id: int) -> list[Refund]:
    return list(db.session.scalars(
        sa.select(Refund).where(Refund.order_id == order_id, Refund.status == RefundStatus.PENDING)
    ))


def _record_part_refund(part_id: int, quantities, *, by, reason: str, goods_returned: bool) -> Refund:
    """The pending refund of `quantities` of the part's lines (all that is left when None),
    checked under the order's, the part's and its lines' locks against what is left to refund
    (the pending refunds counted); RefundError saying why when it cannot be made."""
    part = db.session.get(OrderPart, part_id)
    (order,) = lock_rows(Order, [part.order_id])
    (part,) = lock_rows(OrderPart, [part_id])
    lines = {line.id: line for line in lock_rows(OrderLine, [line.id for line in part.lines])}
    _check_refundable(part)
    pending = _pending(order.id)
    wanted = _quantities_to_refund(quantities, lines, _left_per_line(lines, pending))
    amount = sum(lines[line_id].unit_price_cents * n for line_id, n in wanted.items())
    card_cents = _cards_share(order, amount, pending)
    refund = _new_refund(
        order, part_id=part.id, amount_cents=amount, reason=reason, by=by,
        detail={"lines": {str(k): v for k, v in wanted.items()},
                "restock": _restock_reason(part, goods_returned),
                "note": (reason or "").strip()[:500], "card_cents": card_cents},
    )
    refund.idempotency_key = f"refund-{refund.id}-{int(refund.created_at.timestamp())}"
    db.session.flush()
    return refund


def _check_refundable(part: OrderPart) -> None:
    if part.status == S.REFUNDED:
        raise RefundError(_l("There is nothing left to refund on this order."))
    if part.status not in REFUNDABLE:
        raise RefundError(_l("Only a paid order can be refunded."))


def _left_per_line(lines: dict[int, OrderLine], pending: list[Refund]) -> dict[int, int]:
    """{line id: units that may still be refunded}: neither refunded nor in a pending refund."""
    in_progress: dict[int, int] = {}
    for other in pending:
        for line_id, quantity in (other.detail or {}).get("lines", {}).items():
            in_progress[int(line_id)] = in_progress.get(int(line_id), 0) + int(quantity)
    return {
        line_id: line.quantity - line.refunded_quantity - in_progress.get(line_id, 0)
        for line_id, line in lines.items()
    }


def _quantities_to_refund(quantities, lines: dict[int, OrderLine],
                          left: dict[int, int]) -> dict[int, int]:
    """{line id: units} asked for (everything left when `quantities` is None), each checked
    against what is left of its line; RefundError when a line is not the part's, a quantity is
    negative or too large, or nothing is left."""
    wanted: dict[int, int] = {}
    if quantities is None:
        wanted = {line_id: n for line_id, n in left.items() if n > 0}
    else:
        for line_id, quantity in quantities.items():
            line_id, quantity = int(line_id), int(quantity)
            line = lines.get(line_id)
            if line is None:
                raise RefundError(_l("This line is not part of this order."))
            if quantity < 0:
                raise RefundError(_l("A quantity to refund cannot be negative."))
            if quantity > left[line_id]:
                raise RefundError(_l(
                    "Only %(left)d of “%(title)s” can still be refunded.",
                    left=max(left[line_id], 0), title=line.title,
                ))
            if quantity:
                wanted[line_id] = quantity
    if not wanted:
        raise RefundError(_l("There is nothing left to refund on this order."))
    return wanted


def _cards_share(order: Order, amount: int, pending: list[Refund]) -> int:
    """What of `amount` goes back to the gift cards that paid the order (first, up to what they
    paid and is not refunded or pending); the gateway refunds the rest. RefundError when the
    amount is more than is left of the payment, or the order has no payment for the rest."""
    left_paid = (order.amount_paid_cents - order.amount_refunded_cents
                 - sum(other.amount_cents for other in pending))
    if amount > left_paid:
        raise RefundError(_l("This refund is larger than what is left of the payment."))
    card_left = payment_methods.left_to_give_back(order) - sum(
        int((other.detail or {}).get("card_cents", 0)) for other in pending)
    card_cents = max(0, min(amount, card_left))
    if card_cents < amount and (not order.payment_intent_id or not order.payment_gateway):
        raise RefundError(_l("This order has no payment to refund."))
    return card_cents


def _restock_reason(part: OrderPart, goods_returned: bool) -> str | None:
    """Goods not collected go back on sale (cancellation); collected goods only when brought
    back (return)."""
    if part.collected_at is None and part.status != S.COLLECTED:
        return StockReason.CANCELLATION.value
    return StockReason.RETURN.value if goods_returned else None


def _new_refund(order: Order, *, amount_cents: int, reason: str, by=None, part_id=None,
                detail: dict | None = None, key: str | None = None,
                status: RefundStatus = RefundStatus.PENDING) -> Refund:
    refund = Refund(
        order_id=order.id, part_id=part_id, amount_cents=amount_cents,
        reason=(reason or "").strip()[:40] or "refund", by_id=getattr(by, "id", None),
        idempotency_key=key or f"new-{uuid.uuid4().hex}", status=status,
        detail=detail or {}, created_at=utcnow(),
    )
    db.session.add(refund)
    db.session.flush()
    return refund


# --- the gateway call and what follows -------------------------------------------------------


def send_refund(refund: Refund) -> Refund:
    """Call the gateway for a pending refund (no lock held), then record its answer at once.

    Safe to repeat: the idempotency key makes the gateway answer with the same refund."""
    refund_id, order = refund.id, refund.order
    through_gateway = refund.amount_cents - int((refund.detail or {}).get("card_cents", 0))
    refused = None
    try:
        if through_gateway > 0:
            gateway_refund_id = gateway_named(order.payment_gateway).refund(
                payment_intent_id=order.payment_intent_id,
                amount_cents=through_gateway,
                idempotency_key=refund.idempotency_key,
            )
        else:  # all of it goes back to gift cards
            gateway_refund_id = f"giftcards-{refund.id}"
    except GatewayError as exc:
        if not exc.definite:
            raise RefundError(
                _l("The payment provider did not answer. The refund will be checked again "
                   "automatically within the hour: do not make it again."),
                status_code=503,
            ) from exc
        _mark_failed(refund_id, exc)
        refused = exc
    else:
        refund = _apply(refund_id, gateway_refund_id)
    # Named durable step: the gateway's answer is recorded at once. The money went back (or the
    # refusal is on record although the answer is an error page); nothing that fails later in
    # this unit (the next seller's refund of a withdrawal, the page) may lose that record.
    uow.durable_step()
    if refused is not None:
        raise RefundError(
            _l("The payment provider refused the refund, so nothing was refunded "
               "(%(detail)s).", detail=refused.detail or refused.message),
            status_code=502,
        ) from refused
    return refund


def send_late_refund(refund_id: int) -> None:
    """Queued after the commit of a fulfilment that found the goods sold to someone else: give
    the late payment back. A refusal is recorded (and logged); a pending one is tried again by
    `flask payments reconcile`."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return
    try:
        send_refund(refund)
    except RefundError as exc:
        log.error("Order %s: the automatic refund of a late payment failed: %s",
                  refund.order.reference, exc.message)


def _mark_failed(refund_id: int, exc: GatewayError) -> None:
    refund = db.session.get(Refund, refund_id)
    (order,) = lock_rows(Order, [refund.order_id])
    (refund,) = lock_rows(Refund, [refund_id])
    if refund.status == RefundStatus.PENDING:
        refund.status = RefundStatus.FAILED
        refund.detail = {**(refund.detail or {}), "error": str(exc.detail or exc.message)[:200]}
        audit.record("order.refund_failed", order, data={
            "reference": order.reference, "refund_id": refund.id,
            "amount_cents": refund.amount_cents, "error": refund.detail["error"],
        })


def _apply(refund_id: int, gateway_refund_id: str) -> Refund:
    """Record what the gateway confirmed: quantities, stock, statuses, amounts, email.

    The money is already back, so this never refuses: amounts are capped and statuses only
    move where they legally can (a refund made meanwhile from the dashboard may have settled
    part of it)."""
    refund = db.session.get(Refund, refund_id)
    (order,) = lock_rows(Order, [refund.order_id])
    (refund,) = lock_rows(Refund, [refund_id])
    if refund.status == RefundStatus.SUCCEEDED:
        return refund  # applied by a concurrent run
    refund.status = RefundStatus.SUCCEEDED
    refund.gateway_refund_id = gateway_refund_id
    detail = refund.detail or {}
    if int(detail.get("card_cents", 0)) > 0:
        payment_methods.give_back(order, amount_cents=int(detail["card_cents"]),
                                  key=f"refund-{refund.id}")
    actor = db.session.get(User, refund.by_id) if refund.by_id else None
    refunded_lines: list[tuple[str, int]] = []
    part = None
    if refund.part_id is not None:
        (part,) = lock_rows(OrderPart, [refund.part_id])
        wanted = {int(k): int(v) for k, v in detail.get("lines", {}).items()}
        refunded_lines = _refund_lines(order, part, wanted, restock=detail.get("restock"), by=actor)
        part.refunded_cents = min(part.refunded_cents + refund.amount_cents, part.subtotal_cents)
        if part.seller_amount_cents is not None:  # credited to the seller at payment
            part_refunded.send(refund, part=part)  # the ledger takes the seller's share off
    order.amount_refunded_cents = min(order.amount_refunded_cents + refund.amount_cents,
                                      order.amount_paid_cents)
    if refund.reason == LATE_PAYMENT:
        _set_status(order, S.REFUNDED)
        for other in order.parts:
            _set_status(other, S.EXPIRED)  # nothing of it was ever sold
    else:
        _settle_statuses(order, part)
    db.session.flush()
    audit.record("order.refunded", order, by=actor,
                 organization=part.organization if part else None, data={
        "reference": order.reference, "refund_id": refund.id, "amount_cents": refund.amount_cents,
        "reason": detail.get("note") or refund.reason, "part_id": refund.part_id,
        "lines": detail.get("lines", {}), "gateway_refund_id": gateway_refund_id,
    })
    _queue_refund_email(order, refund, part=part, lines=refunded_lines)
    return refund


def _refund_lines(order: Order, part: OrderPart, wanted: dict[int, int], *, restock, by) -> list:
    """Count `wanted` {line_id: quantity} as refunded, stock back if `restock` says so."""
    lines = {line.id: line for line in lock_rows(OrderLine, wanted)}
    products = {p.id: p for p in lock_rows(Product, [lines[i].product_id for i in wanted])}
    done = []
    for line_id, quantity in sorted(wanted.items()):
        line = lines[line_id]
        quantity = min(quantity, line.quantity - line.refunded_quantity)
        if quantity <= 0:
            continue
        line.refunded_quantity += quantity
        done.append((line.title, quantity))
        product = products.get(line.product_id)
        # A no-show's goods may already be back on the shelf: never count them twice.
        if (restock and product is not None and product.stock is not None
                and part.no_show_restocked_at is None):
            catalog.adjust_stock(product, delta=quantity, reason=StockReason(restock), by=by,
                                 reference=order.reference, note=f"refund of {order.reference}")
    return done


def _set_status(record, new: OrderStatus) -> None:
    if record.status != new and can_transition(record.status, new):
        transition(record, new)


def _settle_statuses(order: Order, part: OrderPart | None) -> None:
    if part is not None:
        if part.refunded_cents >= part.subtotal_cents:
            if part.status != S.REFUNDED:
                _set_status(part, S.REFUNDED)
                _give_back_slot_place(part)
        elif can_transition(part.status, S.PARTIALLY_REFUNDED):
            transition(part, S.PARTIALLY_REFUNDED)
    if order.amount_refunded_cents >= order.amount_paid_cents:
        _set_status(order, S.REFUNDED)
    else:
        _set_status(order, S.PARTIALLY_REFUNDED)


def _give_back_slot_place(part: OrderPart) -> None:
    """A part refunded before collection no longer needs its place in the pickup slot."""
    if part.collected_at is not None:
        return
    (slot,) = lock_rows(PickupSlot, [part.slot_id])
    if slot.booked > 0 and slot.ends_at > utcnow():
        slot.booked -= 1


def _queue_refund_email(order: Order, refund: Refund, *, part=None, lines=()) -> None:
    queue_email(
        "order_refunded", to=order.email, locale=order.locale, order=order, refund=refund,
        part=part, lines=list(lines), late=refund.reason == LATE_PAYMENT,
    )


# --- late payments ---------------------------------------------------------------------------


def late_refund_of(order: Order) -> Refund | None:
    """The refund of a payment that came too late, if one was recorded (even failed: such an
    order is never sold again; staff settle it)."""
    return db.session.scalar(
        sa.select(Refund).where(Refund.order_id == order.id, Refund.reason == LATE_PAYMENT)
    )


def record_late_refund(order: Order, *, amount_cents: int, payment_intent_id: str | None) -> Refund:
    """Paid, but the goods went to someone else: the whole payment is due back. Flushes a
    pending refund (under the order lock taken by mark_paid); send_refund does the rest."""
    if order.amount_paid_cents == 0:  # mark_paid leaves a cancelled order untouched
        order.amount_paid_cents = amount_cents
        order.payment_intent_id = payment_intent_id or order.payment_intent_id
    return _new_refund(
        order, amount_cents=amount_cents, reason=LATE_PAYMENT,
        key=f"late-{order.id}-{int(order.created_at.timestamp())}",
    )


def finish_pending_refunds(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Refunds left pending by a crash or a gateway that did not answer: ask again with the
    same idempotency key, then apply. Returns how many were finished."""
    ids = list(db.session.scalars(
        sa.select(Refund.id)
        .where(Refund.status == RefundStatus.PENDING, Refund.created_at < utcnow() - older_than)
        .order_by(Refund.id)
    ))
    finished = 0
    for refund_id in ids:
        try:
            send_refund(db.session.get(Refund, refund_id))
            finished += 1
        except RefundError as exc:
            log.error("Refund %s could not be finished: %s", refund_id, exc.message)
    return finished


# --- refunds made at the gateway (Stripe dashboard) ------------------------------------------


def record_gateway_refund(*, payment_intent_id: str, charge_id: str,
                          amount_refunded_cents: int) -> Order | None:
    """Stripe says `amount_refunded_cents` of this charge went back in total. Whatever our
    refunds (done or in progress) do not explain was made from the dashboard: record it so the
    order's amount_refunded_cents matches Stripe. Idempotent. Flushes; the caller commits."""
    order = db.session.scalar(sa.select(Order).where(Order.payment_intent_id == payment_intent_id))
    if order is None:
        log.warning("charge.refunded for unknown payment intent %s", payment_intent_id)
        return None
    (order,) = lock_rows(Order, [order.id])
    known = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == order.id, Refund.status != RefundStatus.FAILED
        )
    )
    pending = sum(r.amount_cents for r in _pending(order.id))
    room = order.amount_paid_cents - order.amount_refunded_cents - pending
    amount = min(amount_refunded_cents - int(known), room)
    if amount <= 0:
        return order
    refund = _new_refund(
        order, amount_cents=amount, reason=OUTSIDE, status=RefundStatus.SUCCEEDED,
        key=f"charge-{charge_id}-{amount_refunded_cents}",
        detail={"charge": charge_id, "charge_amount_refunded": amount_refunded_cents},
    )
    order.amount_refunded_cents += amount
    refunded_lines = []
    if order.amount_refunded_cents >= order.amount_paid_cents and not pending:
        # All the money went back: nothing is sold any more. Stock and places come back for
        # what was not collected. Products are locked first, in one sorted batch.
        lock_rows(Product, [line.product_id for part in order.parts for line in part.lines])
        for part in order.parts:
            if part.status not in REFUNDABLE:
                continue
            (part,) = lock_rows(OrderPart, [part.id])
            wanted = {line.id: line.quantity - line.refunded_quantity
                      for line in part.lines if line.quantity > line.refunded_quantity}
            collected = part.collected_at is not None or part.status == S.COLLECTED
            refunded_lines += _refund_lines(
                order, part, wanted, by=None,
                restock=None if collected else StockReason.CANCELLATION.value,
            )
            part.refunded_cents = part.subtotal_cents
            transition(part, S.REFUNDED)
            _give_back_slot_place(part)
        _set_status(order, S.REFUNDED)
    else:
        _set_status(order, S.PARTIALLY_REFUNDED)
        log.warning("Order %s: %s cents refunded at the gateway, not tied to lines; staff may "
                    "need to adjust the stock", order.reference, amount)
    db.session.flush()
    audit.record("order.refunded", order, data={
        "reference": order.reference, "refund_id": refund.id, "amount_cents": amount,
        "reason": OUTSIDE, "charge": charge_id,
    })
    _queue_refund_email(order, refund, lines=refunded_lines)
    return order
