"""How many gift card codes one client (address) may look up: the balance form, the card's
pages (/cards/<code>, its QR and PDF, its actions) and the codes typed at checkout.

Two budgets, read from the settings on each lookup:
- GIFTCARD_LOOKUP_LIMIT counts the codes that are no card. Once it is used up, wrong codes are
  refused (429) but a right code is still accepted: a shop's Wi-Fi or a mobile network puts many
  people behind one address, and one person's typos must not lock the others out of their cards.
- GIFTCARD_LOOKUP_HARD_LIMIT, much higher, counts every lookup, right or wrong, before the
  database is asked. Since a right code is answered even when wrong ones are refused, this cap
  is what keeps guessing slow; the code itself (15 random characters of 28, about 10^21
  possibilities) keeps it hopeless.
"""
from __future__ import annotations

import math
import time

from flask import current_app
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from limits import parse_many

from marketplace.errors import DomainError
from marketplace.extensions import limiter

EVERY_LOOKUP = "giftcard-lookup"
WRONG_CODE = "giftcard-wrong-code"


class TooManyLookups(DomainError):
    status_code = 429

    def __init__(self, message, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and limiter.enabled


def _use(setting: str, scope: str) -> int | None:
    """One more use of the client's budget; the seconds until it is free again when it was
    already used up, else None."""
    key = get_remote_address()
    for item in parse_many(current_app.config[setting]):
        if not limiter.limiter.hit(item, scope, key):
            reset_at = limiter.limiter.get_window_stats(item, scope, key).reset_time
            return max(1, math.ceil(reset_at - time.time()))
    return None


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def count_lookup() -> None:
    """Before a code is looked up: TooManyLookups when the client's hard cap is used up."""
    if not _enabled():
        return
    wait = _use("GIFTCARD_LOOKUP_HARD_LIMIT", EVERY_LOOKUP)
    if wait is not None:
        raise TooManyLookups(ngettext(
            "Too many gift card lookups from your connection: try again in %(num)d minute.",
            "Too many gift card lookups from your connection: try again in %(num)d minutes.",
            _minutes(wait)), retry_after=wait)


def wrong_code() -> None:
    """After a code that is no card: TooManyLookups when the client's wrong codes were already
    used up (the caller then answers 429 instead of "no card has this code")."""
    if not _enabled():
        return
    wait = _use("GIFTCARD_LOOKUP_LIMIT", WRONG_CODE)
    if wait is not None:
        raise TooManyLookups(ngettext(
            "Too many wrong codes from your connection: wrong codes are refused for %(num)d "
            "minute. A right code is still accepted.",
            "Too many wrong codes from your connection: wrong codes are refused for %(num)d "
            "minutes. A right code is still accepted.",
            _minutes(wait)), retry_after=wait)
