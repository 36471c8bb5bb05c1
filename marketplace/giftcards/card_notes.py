"""What a card's issuer says on it besides its amount (a works council: who offers it, for what
event, what becomes of the value left at expiry): the card's page and its PDF show it.

A registry, because the issuer is a higher domain (campaigns registers when it is imported):
`register(notes)`, `notes(card) -> list of texts` (empty when the card is not its own).
"""
from __future__ import annotations

from collections.abc import Callable

_PROVIDERS: list[Callable] = []


def register(provider: Callable) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def of_card(card) -> list:
    """The issuers' lines for this card, in order (none for a card bought on the site)."""
    if card is None or not card.is_named:
        return []
    found: list = []
    for provider in _PROVIDERS:
        found.extend(provider(card) or ())
    return found
