"""Payments: opening a checkout session, THE fulfilment function, releases when a payment does
not come, the hold sweeper and the reconciliation with the gateway. Refunds: payments.refunds.

Nothing here commits: the unit of work does (marketplace.uow). A gateway call never runs while
a row lock is held: the gateway is read before any lock is taken, and what must follow a change
(ending the gateway's session once the hold is released, refunding a payment that came too
late) is queued with `uow.after_commit`, to run once the unit has committed, in a unit of its
own. The refunds' own durable steps are in payments.refunds.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from marketplace import uow
from marketplace.db import LockTimeout, db, lock_rows, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders import payment_methods
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.status import IllegalTransition
from marketplace.payments import refunds
from marketplace.payments.gateway import (
    CheckoutSession,
    GatewayError,
    gateway_for_session,
    get_gateway,
)
from marketplace.payments.models import RefundStatus

# Re-exported: the payment page's refunds (PaymentPage, below) and the admin pages.
from marketplace.payments.refunds import (  # noqa: F401
    RefundError,
    cancel_part,
    parts_of_refunds,
    refund_part,
)
from marketplace.urls import external_url

log = logging.getLogger(__name__)


class PaymentError(DomainError):
    status_code = 409


def checkout_urls(order: Order) -> tuple[str, str]:
    """Where the gateway sends the shopper back: after paying, and when they give up."""
    success = external_url("orders.checkout_success") + "?session_id={CHECKOUT_SESSION_ID}"
    cancel = external_url("orders.checkout_cancelled", reference=order.reference)
    return success, cancel


def success_url_for(order: Order, session_id: str) -> str:
    return checkout_urls(order)[0].replace("{CHECKOUT_SESSION_ID}", session_id)


def _stamp(order: Order) -> int:
    # Part of every idempotency key: ids start again at 1 when a database is reset, the
    # gateway (the same Stripe test account) remembers keys for 24 hours.
    return int(order.created_at.timestamp())


def start_payment(order: Order, *, bank_transfer_customer: str | None = None,
                  return_url: str | None = None) -> CheckoutSession:
    """Open (or give again) the gateway's payment page for `order`. Flushes. With
    `bank_transfer_customer` (gateway.create_customer), the page takes a bank transfer. With
    `return_url`, the page sends the payer back there rather than to the order's pages (a bank
    transfer is paid days later: the success page would have nothing to confirm).

    Never called under a row lock (it calls the gateway): the checkout makes its order and
    holds durable first (a named durable step, orders.views.checkout). While the order's session is still open, the same session is given again.
    """
    if not order.hold_is_active():
        raise PaymentError(
            _l("The reservation of this order has ended: please check out your cart again.")
        )
    gateway = get_gateway()
    key = f"checkout-{order.id}-{_stamp(order)}"
    if order.checkout_session_id and order.payment_gateway == gateway.name:
        state = gateway.retrieve_session(order.checkout_session_id)
        if state.status == "open" and state.url:
            return CheckoutSession(id=state.id, url=state.url)
        if state.status == "complete":
            raise PaymentError(_l("This order has already been paid.") if state.is_paid else
                               _l("The payment of this order is on its way (a bank transfer): "
                                  "the order is paid when the money arrives."))
        key = f"{key}-after-{order.checkout_session_id}"  # a new attempt, a new key
    success_url, cancel_url = (return_url, return_url) if return_url else checkout_urls(order)
    session = gateway.create_checkout_session(
        order, success_url=success_url, cancel_url=cancel_url, idempotency_key=key,
        bank_transfer_customer=bank_transfer_customer,
    )
    _record_session(order, session.id, gateway.name)
    return session


# The order's payment session written by an UPDATE built once, its values set on the object as
# written: a checkout's order is otherwise clean, and a flush of it cost a unit-of-work pass.
_RECORD_SESSION = (
    sa.update(Order.__table__).where(Order.__table__.c.id == sa.bindparam("order_id"))
    .values(checkout_session_id=sa.bindparam("session_id"), payment_gateway=sa.bindparam("gateway"),
            updated_at=sa.bindparam("now"))
)


def _record_session(order: Order, session_id: str, gateway_name: str) -> None:
    db.session.flush()  # anything the caller left pending, first
    now = utcnow()
    db.session.execute(_RECORD_SESSION, {"order_id": order.id, "session_id": session_id,
                                         "gateway": gateway_name, "now": now})
    for name, value in (("checkout_session_id", session_id), ("payment_gateway", gateway_name),
                        ("updated_at", now)):
        set_committed_value(order, name, value)


def order_for_session(session_id: str, *, metadata: Mapping[str, Any] | None = None) -> Order | None:
    """Our order for this checkout session, found in our database before anyone asks the
    gateway: by the session id we stored, else by the order id and reference that the
    session's metadata carries (a session made, then the request died before storing its id).

    `metadata` comes from a signed webhook event; both the id and the reference must match:
    another database on the same Stripe account numbers its orders from 1 too. None means
    the session is not ours: nothing to do, and nothing to ask the gateway (a stranger's or a
    forged session id must not make us call Stripe)."""
    order = orders.get_by_checkout_session(session_id)
    if order is not None or not metadata:
        return order
    order_id, reference = metadata.get("order_id"), metadata.get("reference")
    if not isinstance(order_id, str) or not order_id.isdigit() or len(order_id) > 12 \
            or not isinstance(reference, str):
        return None
    order = db.session.get(Order, int(order_id))
    if order is None or order.reference != reference:
        return None
    if order.checkout_session_id not in (None, session_id):
        log.warning("Order %s was paid through session %s, not its current session %s",
                    order.reference, session_id, order.checkout_session_id)
    return order


def fulfil_checkout_session(
    session_id: str, *, metadata: Mapping[str, Any] | None = None
) -> Order | None:
    """The one idempotent fulfilment of a checkout session; safe to run twice or concurrently.

    Called by the webhook (with the session's `metadata` from the signed event), by the
    success page and by `flask payments reconcile`:
    0. find the order in our database (order_for_session): a session no order has ends here,
       with nothing asked of the gateway;
    1. re-read the session from the gateway (no lock held): only what it says counts, so the
       order in which webhooks arrive does not matter;
    2. lock the order; if paid, mark it paid (holds become sales, confirmation email queued);
       if the goods went to someone else meanwhile, record the refund due (pending) and queue
       its sending for after the commit (payments.refunds.send_late_refund).
    Returns the order, or None when no order matches the session (logged).
    """
    found = read_checkout_session(session_id, metadata=metadata)
    if found is None:
        return None
    return apply_checkout_session(*found)


def read_checkout_session(session_id: str, *, metadata: Mapping[str, Any] | None = None):
    """Steps 0 and 1 of the fulfilment (no lock taken): (order, gateway name, the gateway's
    state of the session), or None when the session is not one of our orders'."""
    order = order_for_session(session_id, metadata=metadata)
    if order is None:
        log.warning("No order for checkout session %s: nothing done", session_id)
        return None
    gateway = gateway_for_session(session_id)
    state = gateway.retrieve_session(session_id)
    if state.order_id is not None and state.order_id != order.id:
        log.error("Checkout session %s names order id %s, not order %s: nothing done",
                  session_id, state.order_id, order.reference)
        return None
    return order, gateway.name, state


def apply_checkout_session(order: Order, gateway_name: str, state) -> Order:
    """Step 2 of the fulfilment: what the gateway said, applied under the order's lock."""
    if not state.is_paid:
        return order
    order_id = order.id
    try:
        with uow.savepoint():
            order, late = _mark_paid(order, gateway_name, state)
    except IllegalTransition:
        # Another fulfilment of the same session (webhook and success page at once, on SQLite
        # where rows are not locked) got there first: the order is paid; show it as it is.
        return db.session.get(Order, order_id, populate_existing=True)
    if late is not None and late.status == RefundStatus.PENDING:
        # The gateway is called once this is committed, with no lock held.
        uow.after_commit(refunds.send_late_refund, late.id)
    return order


def _mark_paid(order: Order, gateway_name: str, state):
    (order,) = lock_rows(Order, [order.id])
    late = refunds.late_refund_of(order)
    if late is not None:  # a late payment already being refunded is never sold again
        return order, late
    outcome = orders.mark_paid(
        order, amount_paid_cents=state.amount_total_cents,
        payment_intent_id=state.payment_intent_id,
    )
    order = outcome.order
    if order.checkout_session_id is None:  # found through the session's metadata
        order.checkout_session_id = state.id
        order.payment_gateway = gateway_name
    if outcome.newly_paid and state.amount_total_cents != payment_methods.amount_due(order):
        log.error("Order %s: paid %s cents for %s due", order.reference,
                  state.amount_total_cents, payment_methods.amount_due(order))
    elif (not outcome.newly_paid and not outcome.refund_due_cents
          and state.payment_intent_id and order.payment_intent_id
          and state.payment_intent_id != order.payment_intent_id):
        log.error("Order %s was paid twice (%s and %s): refund one by hand",
                  order.reference, order.payment_intent_id, state.payment_intent_id)
    if outcome.refund_due_cents:
        late = refunds.record_late_refund(
            order, amount_cents=outcome.refund_due_cents,
            payment_intent_id=state.payment_intent_id,
        )
    return order, late


def release_checkout_session(
    session_id: str,
    *,
    expire_remote: bool,
    status: OrderStatus = OrderStatus.EXPIRED,
    by=None,
    reason: str = "payment_not_completed",
) -> Order | None:
    """The payment will not come (session expired, payment declined, hold ended): give the
    order's holds back. Never touches an order that is no longer waiting for payment (an
    "expired" arriving after "completed" changes nothing). If `expire_remote`, the gateway's
    session is ended once this is committed (a hold may end before Stripe's 30-minute
    minimum)."""
    order = orders.get_by_checkout_session(session_id)
    if order is None:
        log.warning("No order for checkout session %s", session_id)
        return None
    released = orders.release(order, status=status, by=by, reason=reason)
    if released and expire_remote:
        uow.after_commit(expire_remote_session, session_id)
    return order


def expire_remote_session(session_id: str) -> bool:
    """End the gateway's session so the shopper can no longer pay there. Queued with
    `uow.after_commit` by whoever released the order: it runs with no lock held."""
    try:
        with uow.savepoint():  # the demo gateway's sessions are rows
            gateway_for_session(session_id).expire_session(session_id)
    except GatewayError as exc:
        # A payment that still comes is a late payment: re-reserved, or refunded.
        log.warning("Could not expire checkout session %s: %s", session_id, exc.detail)
        return False
    return True


def expire_stale_orders() -> int:
    """The sweeper: release every unpaid order whose hold has ended, then end its session.
    Safe to run twice or next to the webhooks. Returns how many orders were released.
    The sessions are ended once the job has committed (no gateway call under a lock)."""
    released = 0
    for order in orders.stale_orders():
        order_id, session_id = order.id, order.checkout_session_id
        try:
            with uow.savepoint():  # a busy order is skipped, the others released
                done = orders.release(order, status=OrderStatus.EXPIRED, reason="hold_ended")
        except LockTimeout:
            log.info("Order %s is busy; it will be released on the next run", order_id)
            continue
        if done:
            released += 1
            if session_id:
                uow.after_commit(expire_remote_session, session_id)
    return released


@dataclass
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    refunded: int = 0
    errors: int = 0
    refunds_finished: int = 0
    lines: list[str] | None = None

    def describe(self) -> str:
        return "\n".join([
            *(self.lines or []),
            f"{self.checked} unpaid order(s) checked with the gateway: {self.paid} paid, "
            f"{self.refunded} refunded (paid too late), {self.errors} error(s); "
            f"{self.refunds_finished} interrupted refund(s) finished.",
        ])


def reconcile_report(*, since_hours: int = 48) -> ReconcileReport:
    """Ask the gateway about recent unpaid orders (for a webhook that never came), and finish
    refunds interrupted between the gateway's answer and its recording."""
    report = ReconcileReport(lines=[])
    since = utcnow() - timedelta(hours=since_hours)
    rows = db.session.execute(
        sa.select(Order.id, Order.reference, Order.checkout_session_id)
        .where(
            # Cancelled too: a shopper may pay in one tab while cancelling in another, and
            # that payment is due back.
            Order.status.in_(
                [OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.CANCELLED]
            ),
            Order.checkout_session_id.is_not(None),
            Order.created_at >= since,
        )
        .order_by(Order.id)
    ).all()
    # Interrupted refunds first: each records the gateway's answer at once (a durable step),
    # so no lock is held when the gateway is asked about the orders below.
    report.refunds_finished = refunds.finish_pending_refunds()
    # Every session is read from the gateway before any order is locked; then each order is
    # changed in a SAVEPOINT of its own, so that one refused order leaves the others applied.
    states = []
    for _order_id, reference, session_id in rows:
        report.checked += 1
        try:
            found = read_checkout_session(session_id)
        except DomainError as exc:
            report.errors += 1
            report.lines.append(f"{reference}: {getattr(exc, 'detail', '') or exc}")
            continue
        if found is not None:
            states.append((reference, found))
    for reference, found in states:
        try:
            with uow.savepoint():
                order = apply_checkout_session(*found)
        except (DomainError, LockTimeout) as exc:
            report.errors += 1
            report.lines.append(f"{reference}: {getattr(exc, 'detail', '') or exc}")
            continue
        if order.status == OrderStatus.PAID:
            report.paid += 1
            report.lines.append(f"{reference}: paid (the webhook never came)")
        elif order.status == OrderStatus.REFUNDED or _late_refund_pending(order):
            report.refunded += 1
            report.lines.append(f"{reference}: paid after its hold ended, goods gone: refunded")
    return report


def _late_refund_pending(order: Order) -> bool:
    late = refunds.late_refund_of(order)  # sent once the unit has committed
    return late is not None and late.status == RefundStatus.PENDING


def reconcile(*, since_hours: int = 48) -> int:
    """How many orders the reconciliation found paid (or refunded) since the last webhook."""
    report = reconcile_report(since_hours=since_hours)
    return report.paid + report.refunded


class PaymentPage:
    """The payment page as the orders domain asks for it (orders.payment_methods.PaymentPage):
    the checkout, the shopper's way back and the sellers' refunds. Each method calls this
    module's function by its name when called (tests replace them)."""

    refund_error = RefundError

    def start_payment(self, order: Order) -> CheckoutSession:
        return start_payment(order)

    def expire_remote_session(self, session_id: str) -> bool:
        return expire_remote_session(session_id)

    def fulfil_return(self, session_id: str) -> Order | None:
        """The success page's fulfilment: None when the gateway does not know the session
        (a definite GatewayError); an unreachable gateway raises."""
        try:
            return fulfil_checkout_session(session_id)
        except GatewayError as exc:
            if exc.definite:
                return None
            raise

    def refund_part(self, part, **kwargs):
        return refund_part(part, **kwargs)

    def cancel_part(self, part, **kwargs):
        return cancel_part(part, **kwargs)

    def parts_of_refunds(self, refund_ids) -> dict[int, int | None]:
        return parts_of_refunds(refund_ids)


payment_methods.register_page(PaymentPage())
