"""The one payment gateway interface, and which implementation serves this app.

StripeGateway (Stripe Checkout) when STRIPE_SECRET_KEY is set, DemoGateway (a local page, no
money moves) otherwise. Both drive the same fulfilment code in payments.services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class SessionState:
    id: str
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    payment_intent_id: str | None
    amount_total_cents: int
    order_id: int | None
    url: str | None = None  # where the shopper pays, while the session is open

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status in ("paid", "no_payment_required")


class GatewayError(DomainError):
    """The payment provider refused a call or could not be reached.

    `definite` is True when the provider answered with a refusal (nothing happened there);
    False when we do not know (network error, timeout): retrying with the same idempotency key
    tells."""

    status_code = 502

    def __init__(self, message=None, *, detail: str = "", definite: bool = True,
                 code: str | None = None):
        super().__init__(message or _l("The payment provider could not complete this operation."))
        self.detail = detail
        self.definite = definite
        self.code = code  # the provider's error code, e.g. "resource_missing"


class PaymentGateway(Protocol):
    name: str  # stored in Order.payment_gateway ("stripe", "demo")

    def create_checkout_session(
        self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
        bank_transfer_customer: str | None = None,
    ) -> CheckoutSession:
        """A payment page for `order`. With `bank_transfer_customer` (a customer id from
        create_customer), the page offers a bank transfer to a virtual IBAN instead of a card:
        the session completes unpaid, and is paid when the transfer arrives (Stripe only)."""

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        """A customer of the gateway (a works council paying by transfer); returns its id."""

    def retrieve_session(self, session_id: str) -> SessionState: ...

    def expire_session(self, session_id: str) -> None:
        """End an open session; no error when it is already expired or complete."""

    def refund(self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        """Send `amount_cents` back; returns the gateway's refund id."""

    # Stripe Connect, for the sellers' payouts (marketplace.ledger).
    def create_connected_account(self, *, email: str, name: str, idempotency_key: str) -> str:
        """A seller's Express account; returns its id."""

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """Where the seller's owner fills in the account (identity, bank details)."""

    def payouts_enabled(self, account_id: str) -> bool: ...

    def transfer(self, *, amount_cents: int, destination: str, idempotency_key: str,
                 description: str = "") -> str:
        """Move `amount_cents` to the connected account; returns the transfer id."""


def session_expires_at(order, *, now: datetime | None = None) -> datetime:
    """When a checkout session for `order` ends: with the hold, but within what Stripe accepts
    (30 minutes to 24 hours; a shorter hold is ended by expiring the session through the API).
    A minute of margin so a request arriving a few seconds late is not refused."""
    now = now or utcnow()
    minimum = now + timedelta(minutes=current_app.config["STRIPE_CHECKOUT_MIN_MINUTES"], seconds=60)
    maximum = now + timedelta(hours=24, seconds=-60)
    return min(max(order.hold_expires_at, minimum), maximum)


def get_gateway() -> PaymentGateway:
    """The gateway new payments go through: Stripe when a secret key is configured."""
    return gateway_named("stripe" if current_app.config.get("STRIPE_SECRET_KEY") else "demo")


def gateway_named(name: str | None) -> PaymentGateway:
    """The gateway an existing payment was made with (Order.payment_gateway)."""
    if name == "demo":
        from marketplace.payments.demo_gateway import DemoGateway

        return DemoGateway()
    if name == "stripe":
        from marketplace.payments.stripe_gateway import StripeGateway

        return StripeGateway.from_config()
    raise ValueError(f"unknown payment gateway {name!r}")


def gateway_for_session(session_id: str) -> PaymentGateway:
    from marketplace.payments.demo_gateway import SESSION_PREFIX

    return gateway_named("demo" if session_id.startswith(SESSION_PREFIX) else "stripe")
