"""Stripe Checkout (hosted page: no card data touches us), through the official SDK.

Connect with separate charges and transfers: the shopper pays the platform once per order
(transfer_group = the order reference); transfers to sellers belong to the ledger.
"""
from __future__ import annotations

import logging
from typing import Any

import stripe
from flask import current_app

from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.payment_methods import payment_lines
from marketplace.payments.gateway import (
    CheckoutSession,
    GatewayError,
    SessionState,
    session_expires_at,
)

log = logging.getLogger(__name__)

_CLIENT_KEY = "payments.stripe_client"


def _error(exc: stripe.StripeError, message=None) -> GatewayError:
    """A Stripe error as a GatewayError; a refusal (4xx) is definite, a network error is not."""
    definite = not isinstance(exc, stripe.APIConnectionError) and (exc.http_status or 500) < 500
    log.warning("Stripe error (%s): %s", type(exc).__name__, exc.user_message or exc)
    return GatewayError(message, detail=str(exc.user_message or exc)[:200], definite=definite,
                        code=exc.code)


def stripe_client() -> stripe.StripeClient:
    """One client per app. STRIPE_HTTP_CLIENT lets tests plug an in-process fake Stripe in
    through the SDK's http_client hook; STRIPE_API_BASE points at stripe-mock or a proxy."""
    app = current_app._get_current_object()
    client = app.extensions.get(_CLIENT_KEY)
    if client is not None:
        return client
    config = app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise GatewayError(_l("Card payments are not configured on this site."))
    http_client = config.get("STRIPE_HTTP_CLIENT") or _default_http_client(
        config["STRIPE_TIMEOUT_SECONDS"]
    )
    base = config.get("STRIPE_API_BASE")
    client = stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        http_client=http_client,
        base_addresses={"api": base.rstrip("/")} if base else None,
        max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
    )
    app.extensions[_CLIENT_KEY] = client
    return client


def _default_http_client(timeout: float):
    try:
        import requests  # noqa: F401 - the SDK's preferred client, if installed
    except ImportError:
        return None  # the SDK's default (urllib, with its own timeout)
    return stripe.RequestsClient(timeout=timeout)


def _state(session: dict[str, Any]) -> SessionState:
    intent = session.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    metadata = session.get("metadata") or {}
    order_id = metadata.get("order_id")
    return SessionState(
        id=session["id"],
        status=session.get("status") or "open",
        payment_status=session.get("payment_status") or "unpaid",
        payment_intent_id=intent,
        amount_total_cents=int(session.get("amount_total") or 0),
        order_id=int(order_id) if order_id and str(order_id).isdigit() else None,
        url=session.get("url"),
    )


class StripeGateway:
    name = "stripe"

    def __init__(self, client: stripe.StripeClient):
        self.client = client

    @classmethod
    def from_config(cls) -> StripeGateway:
        return cls(stripe_client())

    def create_checkout_session(
        self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
        bank_transfer_customer: str | None = None,
    ) -> CheckoutSession:
        metadata = {"order_id": str(order.id), "reference": order.reference}
        currency = order.currency.lower()

        def item(name: str, unit_cents: int, quantity: int = 1) -> dict:
            return {"quantity": quantity, "price_data": {
                "currency": currency, "unit_amount": unit_cents, "product_data": {"name": name}}}

        # What the order gives the payment page to list, adding up to what is left to pay.
        line_items = [item(name, unit_cents, quantity)
                      for name, unit_cents, quantity in payment_lines(order)]
        params = {
            "mode": "payment",
            "line_items": line_items,
            "customer_email": order.email,
            "client_reference_id": order.reference,
            "expires_at": int(session_expires_at(order).timestamp()),
            "locale": "en" if order.locale == "en" else "fr",
            "metadata": metadata,
            "payment_intent_data": {"transfer_group": order.reference, "metadata": metadata},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if bank_transfer_customer:
            # A transfer to the customer's virtual IBAN (FR), matched by Stripe: the session
            # completes unpaid when the customer has the bank details, and is paid
            # (checkout.session.async_payment_succeeded) when the money arrives. Checkout takes
            # a customer or an email, not both.
            del params["customer_email"]
            params["customer"] = bank_transfer_customer
            params["payment_method_types"] = ["customer_balance"]
            params["payment_method_options"] = {"customer_balance": {
                "funding_type": "bank_transfer",
                "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "FR"}},
            }}
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _error(exc, _l("The payment page could not be opened. Please try again.")) from exc
        return CheckoutSession(id=session.id, url=session.url)

    def retrieve_session(self, session_id: str) -> SessionState:
        try:
            session = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return _state(session.to_dict())

    def expire_session(self, session_id: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as exc:
            # Refused because it is no longer open (already expired, or paid meanwhile)?
            if self.retrieve_session(session_id).status != "open":
                return
            raise _error(exc) from exc
        except stripe.StripeError as exc:
            raise _error(exc) from exc

    def refund(self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _error(exc, _l("The payment provider refused the refund.")) from exc
        return refund.id

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        try:
            customer = self.client.v1.customers.create(
                params={"email": email or None, "name": name[:250]},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _error(exc, _l("The payment provider could not register the payer. "
                                 "Please try again.")) from exc
        return customer.id

    # Connect: the sellers' Express accounts and the transfers of their payouts.

    def create_connected_account(self, *, email: str, name: str, idempotency_key: str) -> str:
        try:
            account = self.client.v1.accounts.create(
                params={"type": "express", "country": "FR", "email": email or None,
                        "business_profile": {"name": name},
                        "capabilities": {"transfers": {"requested": True}}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _error(exc, _l("Stripe could not create the account. Please try again.")) from exc
        return account.id

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        try:
            link = self.client.v1.account_links.create(params={
                "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                "type": "account_onboarding"})
        except stripe.StripeError as exc:
            raise _error(exc, _l("Stripe could not open the onboarding. Please try again.")) from exc
        return link.url

    def payouts_enabled(self, account_id: str) -> bool:
        try:
            account = self.client.v1.accounts.retrieve(account_id)
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        data = account.to_dict()
        return bool(data.get("payouts_enabled"))

    def transfer(self, *, amount_cents: int, destination: str, idempotency_key: str,
                 description: str = "") -> str:
        try:
            transfer = self.client.v1.transfers.create(
                params={"amount": amount_cents, "currency": "eur", "destination": destination,
                        "description": description[:200] or None},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _error(exc, _l("Stripe refused the transfer.")) from exc
        return transfer.id
