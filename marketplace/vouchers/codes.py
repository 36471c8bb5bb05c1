"""Voucher tokens and short codes, and reading what a counter scanner or a volunteer typed."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# No 0/O, 1/I/L or U/V look-alikes: a code read aloud or copied from a phone is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 8
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
VOUCHER_PATH_RE = re.compile(r"/v/([A-Za-z0-9_-]{32})(?:[/.?#]|$)")
INPUT_MAX = 500


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Scanned:
    """What the counter received: a voucher token (from the QR's URL) or a short code."""

    token: str | None = None
    code: str | None = None


def parse_scanned(text: str | None) -> Scanned | None:
    """Read a scanner's input (the voucher URL followed by Enter), a bare token, or a short code
    typed by hand with any spacing, dashes and case. None when it is none of these."""
    text = (text or "").strip()
    if not text or len(text) > INPUT_MAX:
        return None
    if "/" in text:
        path = unquote(urlsplit(text).path if "://" in text else text)
        match = VOUCHER_PATH_RE.search(path + "/")
        return Scanned(token=match.group(1)) if match else None
    compact = re.sub(r"[\s\-.]", "", text).upper()
    if len(compact) == CODE_LENGTH and all(c in CODE_ALPHABET for c in compact):
        return Scanned(code=compact)
    if TOKEN_RE.match(text):
        return Scanned(token=text)
    return None
