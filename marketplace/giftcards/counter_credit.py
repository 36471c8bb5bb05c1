"""What a card spent at a seller's counter writes in the sellers' ledger, a domain above gift
cards: the ledger registers at import (ledger.services) its commission on a card spent at a
seller, its entry model and its kinds of entry. The counter debit (`services._Debit`) builds
the seller's entry from them, in the same statement as the card's UPDATE on PostgreSQL, so the
gift cards never import the ledger."""
from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

_LEDGER: list[SimpleNamespace] = []


def register(*, card_commission: Callable[..., int], entry_model, entry_kinds) -> None:
    """`card_commission(gross_cents, organization)`; `entry_model`, whose table the entry is
    inserted in; `entry_kinds`, the enum whose CARD member the entry is written with."""
    _LEDGER[:] = [SimpleNamespace(card_commission=card_commission, LedgerEntry=entry_model,
                                  EntryKind=entry_kinds)]


def ledger() -> SimpleNamespace:
    """The registered ledger, as the counter debit uses it (`card_commission`, `LedgerEntry`,
    `EntryKind`)."""
    if not _LEDGER:
        raise LookupError("the sellers' ledger is not registered (marketplace.ledger.services)")
    return _LEDGER[0]
