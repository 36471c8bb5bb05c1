"""Addresses as they may be written to a log: a gift card's code and a voucher's token are the
key to money and goods, and both are in the addresses of their pages (/cards/<code>,
/v/<token>: what the QR codes hold) and in what a counter scanned (?q=...). A log line keeps
their last 4 characters, enough to match a complaint, and masks the rest.

Plain text helpers (no Flask): gunicorn's access logger (gunicorn.conf.py) uses them too."""
from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "****"
# A path segment after /cards/ or /v/ long enough to be a code or a token (not /cards/buy).
_SECRET_SEGMENT = re.compile(r"(/(?:cards|v)/)([^/?#\s]{12,})")
# The scanned text sent to a counter page: a code, or a voucher or card address.
_COUNTER_QUERY = re.compile(r"((?:^|[?&])q=)([^&#\s]*)")


def _keep_last_4(match: re.Match) -> str:
    return f"{match.group(1)}{MASK}{match.group(2)[-4:]}"


def path(text: str | None) -> str:
    """A path, full URL or request line with every card code and voucher token masked."""
    if not text:
        return text or ""
    text = _SECRET_SEGMENT.sub(_keep_last_4, text)
    if "/counter" in text:
        text = _COUNTER_QUERY.sub(_mask_scan, text)
    return text


def _mask_scan(match: re.Match) -> str:
    return f"{match.group(1)}{MASK}{unquote(match.group(2))[-4:]}" if match.group(2) else match.group(0)


def query(text: str | None, *, counter: bool) -> str:
    """A query string (without '?'): the scanned `q` of a counter page masked."""
    if not text or not counter:
        return text or ""
    return _COUNTER_QUERY.sub(_mask_scan, text)
