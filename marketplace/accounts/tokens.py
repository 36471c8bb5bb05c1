"""Signed, expiring tokens for the links we email (confirm an address, reset a password)."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# One salt per purpose: a token made for one purpose is never accepted for another.
VERIFY_EMAIL = "accounts.verify-email"
RESET_PASSWORD = "accounts.reset-password"  # noqa: S105 - a salt, not a secret


class BadToken(Exception):
    """Tampered with, made for another purpose, or expired.

    `expired_payload` is set only when the signature is genuine but too old, so the caller
    may still use what it says (e.g. to offer a new link to the same account).
    """

    def __init__(self, expired_payload: dict[str, Any] | None = None):
        super().__init__("bad token")
        self.expired_payload = expired_payload


def make(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, *, max_age: int) -> dict[str, Any]:
    serializer = _serializer(purpose)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        try:
            expired = serializer.load_payload(exc.payload)
        except BadSignature:
            expired = None
        raise BadToken(expired if isinstance(expired, dict) else None) from exc
    except BadSignature as exc:
        raise BadToken() from exc
    if not isinstance(payload, dict):
        raise BadToken()
    return payload


def digest(value: str) -> str:
    """A short fingerprint for payloads, which are signed but readable by anyone."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def matches(given: Any, value: str) -> bool:
    """True when `given` (from a payload) is the fingerprint of `value`."""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), digest(value).encode())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)
