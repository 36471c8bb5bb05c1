"""The demo gateway: used when no Stripe key is configured. Sessions are rows in
demo_checkout_session and the "payment page" is a local page marked DEMO; no money moves.
Paying there goes through the very same fulfilment code as a Stripe payment."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from marketplace.db import db, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.payment_methods import amount_due
from marketplace.payments.gateway import (
    CheckoutSession,
    GatewayError,
    SessionState,
    session_expires_at,
)
from marketplace.payments.models import DemoCheckoutSession, DemoSessionStatus
from marketplace.urls import external_url

SESSION_PREFIX = "demo_cs_"


def _load(session_id: str) -> DemoCheckoutSession:
    row = db.session.get(DemoCheckoutSession, session_id, populate_existing=True)
    if row is None:
        raise GatewayError(_l("This payment session does not exist."), detail=session_id,
                           code="resource_missing")
    return row


def is_open(row: DemoCheckoutSession, now=None) -> bool:
    return row.status == DemoSessionStatus.OPEN and row.expires_at > (now or utcnow())


# Built once (SQLAlchemy caches their compiled form): the order's open session, newest first;
# and a new session written only if the order has no open one (one statement where a checkout
# had two: a look for an open session, then the INSERT), its id returned when it was written.
_table = DemoCheckoutSession.__table__
_NEW_UNLESS_OPEN = sa.insert(_table).from_select(
    ["id", "order_id", "amount_cents", "currency", "status", "amount_refunded_cents",
     "expires_at", "created_at"],
    sa.select(
        *(sa.bindparam(name, type_=_table.c[name].type)
          for name in ("id", "order_id", "amount_cents", "currency")),
        sa.literal(DemoSessionStatus.OPEN, _table.c.status.type), sa.literal(0),
        sa.bindparam("expires_at", type_=_table.c.expires_at.type),
        sa.bindparam("now", type_=_table.c.created_at.type),
    ).where(~sa.exists().where(
        _table.c.order_id == sa.bindparam("order_id"),
        _table.c.status == DemoSessionStatus.OPEN,
        _table.c.expires_at > sa.bindparam("now"),
    )),
).returning(_table.c.id)
_OPEN_SESSION = (
    sa.select(DemoCheckoutSession.id)
    .where(
        DemoCheckoutSession.order_id == sa.bindparam("order_id"),
        DemoCheckoutSession.status == DemoSessionStatus.OPEN,
        DemoCheckoutSession.expires_at > sa.bindparam("now"),
    )
    .order_by(DemoCheckoutSession.created_at.desc())
    .limit(1)
)


class DemoGateway:
    name = "demo"

    def create_checkout_session(
        self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
        bank_transfer_customer: str | None = None,
    ) -> CheckoutSession:
        if bank_transfer_customer:  # only Stripe matches transfers to a virtual IBAN
            raise GatewayError(_l("Payment by bank transfer through the payment provider is "
                                  "not available on this site."))
        # Idempotent like Stripe's: while this order has an open session, it is given again.
        now = utcnow()
        session_id = db.session.scalar(_NEW_UNLESS_OPEN, {
            "id": SESSION_PREFIX + secrets.token_urlsafe(24),
            "order_id": order.id,
            "amount_cents": amount_due(order),  # what prepaid means (gift cards) left to pay
            "currency": order.currency,
            "expires_at": session_expires_at(order),
            "now": now,
        })
        if session_id is None:  # the order's open session, given again
            session_id = db.session.scalar(_OPEN_SESSION, {"order_id": order.id, "now": now})
        return CheckoutSession(id=session_id, url=self.page_url(session_id))

    @staticmethod
    def page_url(session_id: str) -> str:
        return external_url("payments.demo_checkout", session_id=session_id)

    def retrieve_session(self, session_id: str) -> SessionState:
        row = _load(session_id)
        if row.status == DemoSessionStatus.COMPLETE:
            status, payment_status = "complete", "paid"
        elif is_open(row):
            status, payment_status = "open", "unpaid"
        else:  # expired, declined (the demo's failed payment ends the session)
            status, payment_status = "expired", "unpaid"
        return SessionState(
            id=row.id,
            status=status,
            payment_status=payment_status,
            payment_intent_id=row.payment_intent_id,
            amount_total_cents=row.amount_cents,
            order_id=row.order_id,
            url=self.page_url(row.id) if status == "open" else None,
        )

    def expire_session(self, session_id: str) -> None:
        row = _load(session_id)
        if row.status == DemoSessionStatus.OPEN:
            row.status = DemoSessionStatus.EXPIRED
            db.session.flush()

    def refund(self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        row = db.session.scalar(
            sa.select(DemoCheckoutSession).where(
                DemoCheckoutSession.payment_intent_id == payment_intent_id
            )
        )
        if row is None or row.status != DemoSessionStatus.COMPLETE:
            raise GatewayError(_l("There is no payment to refund."), detail=payment_intent_id)
        if amount_cents <= 0 or row.amount_refunded_cents + amount_cents > row.amount_cents:
            raise GatewayError(_l("The refund is larger than what is left of the payment."))
        row.amount_refunded_cents += amount_cents
        db.session.flush()
        # Same key, same id (as Stripe's idempotency would answer).
        return "demo_re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

    # The demo page's buttons (Stripe's hosted page does this on its side).

    def complete(self, session_id: str) -> bool:
        """"Pay": the session is paid with a fake payment intent. False if no longer open."""
        row = _load(session_id)
        if not is_open(row):
            return False
        row.status = DemoSessionStatus.COMPLETE
        row.payment_intent_id = "demo_pi_" + secrets.token_urlsafe(16)
        db.session.flush()
        return True

    def decline(self, session_id: str) -> bool:
        """"Decline": the payment fails and the session ends. False if no longer open."""
        row = _load(session_id)
        if not is_open(row):
            return False
        row.status = DemoSessionStatus.DECLINED
        db.session.flush()
        return True

    # Connect, simulated: an account that is ready at once, and transfers that always succeed
    # (the same key gives the same id, as Stripe's idempotency would).

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        return "demo_cus_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]

    def create_connected_account(self, *, email: str, name: str, idempotency_key: str) -> str:
        return "demo_acct_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        return return_url

    def payouts_enabled(self, account_id: str) -> bool:
        return account_id.startswith("demo_acct_")

    def transfer(self, *, amount_cents: int, destination: str, idempotency_key: str,
                 description: str = "") -> str:
        if not destination.startswith("demo_acct_"):
            raise GatewayError(_l("Stripe refused the transfer."), detail="unknown demo account",
                               definite=True)
        return "demo_tr_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
