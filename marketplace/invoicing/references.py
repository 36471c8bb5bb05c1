"""Transfer references: an ISO 11649 structured creditor reference ("RF" and two check digits)
built on the pro-forma's number, which banks carry as is and a typo in which is detected."""
from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

_CANDIDATE = re.compile(r"RF\d{2}[A-Z0-9]{1,21}")


def transfer_reference(number: str) -> str:
    """PF-2026-00001 -> RF..PF202600001 (compact; iso11649.format groups it by 4 for print)."""
    body = re.sub(r"[^A-Z0-9]", "", number.upper())
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def printed(reference: str) -> str:
    return iso11649.format(reference)


def find_reference(text: str) -> str | None:
    """The first valid RF reference in what a bank statement line says (spaces ignored)."""
    compact = re.sub(r"[\s-]", "", (text or "").upper())
    for match in _CANDIDATE.finditer(compact):
        candidate = match.group(0)
        # The longest valid prefix: the bank may glue other text after it.
        for end in range(len(candidate), 4, -1):
            if iso11649.is_valid(candidate[:end]):
                return candidate[:end]
    return None
