"""An in-process fake of the few Stripe endpoints we use, plugged into the real SDK through its
http_client hook (a stripe.HTTPClient subclass): no network, ever.

It implements Checkout Sessions (create, retrieve, expire), refunds and customers, honours idempotency
keys as Stripe does (same key and parameters: the first answer again; same key, other
parameters: an idempotency error), and records every request so tests can assert on the
parameters the SDK really sent. Test helpers play the shopper and the dashboard (pay, expire,
refund from the dashboard) and build signed webhook deliveries.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

WEBHOOK_SECRET = "whsec_test_secret"


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int


def decode_form(body: str | None) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=v) back into nested dicts and lists (values are str)."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body or "", keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(result)


class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    def __init__(self):
        super().__init__()
        self.calls: list[Call] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}  # payment intent -> its charge
        self.refunds: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}  # Connect Express accounts
        self.transfers: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, tuple[dict, tuple[str, int, dict]]] = {}
        self._failures: list[tuple[str, str, int, dict]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # --- the HTTPClient hook ---------------------------------------------------------------

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        with self._lock:
            split = urlsplit(url)
            params = decode_form(post_data if method == "post" else split.query)
            key = (headers or {}).get("Idempotency-Key") if method == "post" else None
            if key and key in self._answers:
                first_params, answer = self._answers[key]
                if first_params != params:
                    answer = self._error(400, "idempotency_error",
                                         "Keys for idempotent requests can only be used with the "
                                         "same parameters they were first used with.")
                self.calls.append(Call(method, split.path, params, key, answer[1]))
                return answer
            answer = self._route(method, split.path, params)
            self.calls.append(Call(method, split.path, params, key, answer[1]))
            if key:
                self._answers[key] = (params, answer)
            return answer

    def close(self):
        pass

    # --- helpers for tests -----------------------------------------------------------------

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def fail_next(self, method: str, path_prefix: str, *, status: int = 402,
                  type: str = "invalid_request_error", message: str = "Refused by the fake.") -> None:
        """The next matching request gets this error (once)."""
        self._failures.append((method, path_prefix, status, {"type": type, "message": message}))

    def pay(self, session_id: str, *, payment_status: str = "paid") -> str:
        """The shopper pays on the hosted page (or, with payment_status="unpaid", starts a
        delayed payment that is not confirmed yet)."""
        with self._lock:
            session = self.sessions[session_id]
            intent = f"pi_test_{next(self._ids):06d}"
            session.update(status="complete", payment_status=payment_status, payment_intent=intent)
            self.intents[intent] = {
                "charge": f"ch_test_{next(self._ids):06d}",
                "amount": session["amount_total"],
                "amount_refunded": 0,
            }
            return intent

    def finish_onboarding(self, account_id: str) -> None:
        self.accounts[account_id].update(payouts_enabled=True, charges_enabled=True)

    def expire(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="expired", url=None)

    def refund_at_dashboard(self, payment_intent: str, amount: int) -> dict:
        """Someone refunds from the Stripe dashboard; returns the charge as in charge.refunded."""
        with self._lock:
            self.intents[payment_intent]["amount_refunded"] += amount
            return self.charge(payment_intent)

    def charge(self, payment_intent: str) -> dict:
        intent = self.intents[payment_intent]
        return {
            "id": intent["charge"], "object": "charge", "amount": intent["amount"],
            "amount_refunded": intent["amount_refunded"], "currency": "eur",
            "payment_intent": payment_intent,
            "refunded": intent["amount_refunded"] == intent["amount"],
        }

    # --- the endpoints ---------------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict):
        for i, (m, prefix, status, error) in enumerate(self._failures):
            if m == method and path.startswith(prefix):
                del self._failures[i]
                return self._error(status, error["type"], error["message"])
        if method == "post" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match:
            session = self.sessions.get(match.group(1))
            if session is None:
                return self._error(404, "invalid_request_error",
                                   f"No such checkout.session: '{match.group(1)}'",
                                   code="resource_missing")
            if match.group(2) and method == "post":
                if session["status"] != "open":
                    return self._error(400, "invalid_request_error",
                                       'Only Checkout Sessions with a status in ["open"] can be expired.')
                self.expire(session["id"])
            return self._ok(session)
        if method == "post" and path == "/v1/refunds":
            return self._create_refund(params)
        if method == "post" and path == "/v1/customers":
            customer = {"id": f"cus_test_{next(self._ids):06d}", "object": "customer",
                        "email": params.get("email"), "name": params.get("name")}
            self.customers[customer["id"]] = customer
            return self._ok(customer)
        if method == "post" and path == "/v1/accounts":
            account_id = f"acct_test_{next(self._ids):06d}"
            self.accounts[account_id] = {"id": account_id, "object": "account", "type": "express",
                                         "email": params.get("email"), "payouts_enabled": False,
                                         "charges_enabled": False}
            return self._ok(self.accounts[account_id])
        match = re.fullmatch(r"/v1/accounts/([^/]+)", path)
        if match and method == "get":
            account = self.accounts.get(match.group(1))
            if account is None:
                return self._error(404, "invalid_request_error", "No such account",
                                   code="resource_missing")
            return self._ok(account)
        if method == "post" and path == "/v1/account_links":
            if params.get("account") not in self.accounts:
                return self._error(400, "invalid_request_error", "No such account")
            return self._ok({"object": "account_link", "url":
                             f"https://connect.stripe.com/setup/e/{params['account']}/fake"})
        if method == "post" and path == "/v1/transfers":
            account = self.accounts.get(params.get("destination", ""))
            if account is None or not account["payouts_enabled"]:
                return self._error(400, "invalid_request_error",
                                   "Your destination account needs to have at least one of the "
                                   "following capabilities enabled: transfers")
            transfer = {"id": f"tr_test_{next(self._ids):06d}", "object": "transfer",
                        "amount": int(params["amount"]), "currency": params["currency"],
                        "destination": params["destination"]}
            self.transfers[transfer["id"]] = transfer
            return self._ok(transfer)
        return self._error(404, "invalid_request_error", f"Unrecognized request URL ({path}).")

    def _create_session(self, params: dict):
        line_items = params.get("line_items") or []
        for required in ("mode", "success_url", "line_items"):
            if not params.get(required):
                return self._error(400, "invalid_request_error", f"Missing required param: {required}.")
        if params.get("expires_at") and int(params["expires_at"]) < time.time() + 30 * 60:
            return self._error(400, "invalid_request_error",
                               "The `expires_at` timestamp must be at least 30 minutes from "
                               "Checkout Session creation.")
        session_id = f"cs_test_{next(self._ids):06d}"
        amount = sum(int(item["price_data"]["unit_amount"]) * int(item["quantity"])
                     for item in line_items)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_total": amount,
            "currency": line_items[0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "expires_at": int(params.get("expires_at") or time.time() + 24 * 3600),
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return self._ok(session)

    def _create_refund(self, params: dict):
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return self._error(404, "invalid_request_error",
                               f"No such payment_intent: '{params.get('payment_intent')}'",
                               code="resource_missing")
        amount = int(params.get("amount") or intent["amount"] - intent["amount_refunded"])
        if amount <= 0 or intent["amount_refunded"] + amount > intent["amount"]:
            return self._error(400, "invalid_request_error",
                               f"Refund amount ({amount}) is greater than unrefunded amount on charge.")
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_test_{next(self._ids):06d}", "object": "refund", "amount": amount,
            "currency": "eur", "payment_intent": params["payment_intent"],
            "charge": intent["charge"], "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return self._ok(refund)

    @staticmethod
    def _ok(body: dict):
        return json.dumps(body), 200, {"Content-Type": "application/json", "Request-Id": "req_fake"}

    @staticmethod
    def _error(status: int, type: str, message: str, code: str | None = None):
        error = {"type": type, "message": message, **({"code": code} if code else {})}
        return json.dumps({"error": error}), status, {"Content-Type": "application/json"}


def stripe_settings(fake: FakeStripe) -> dict:
    """The app settings that send the real stripe SDK to `fake` (make_app(**stripe_settings(f)))."""
    return {"STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_HTTP_CLIENT": fake, "STRIPE_MAX_NETWORK_RETRIES": 0}


# --- webhook deliveries ----------------------------------------------------------------------

_event_ids = itertools.count(1)


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{next(_event_ids):06d}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def signed(payload: dict | str, secret: str = WEBHOOK_SECRET) -> tuple[str, dict[str, str]]:
    """The body and headers of a delivery, signed the way Stripe signs (the SDK's own helper)."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(body, secret)
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}
