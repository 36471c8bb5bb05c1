"""How a works council may pay an accepted quote: name -> (label, start), filled at import by
the modules that take payments (campaigns.card_payment: "card", "stripe_transfer").

`start(campaign, proforma, *, return_url)` returns the URL to send the manager to (a payment
page), or None to come back to the campaign page; it raises a DomainError to refuse.
`available()` gives the methods this site offers now, in the order they were registered (a
method registered with `offered` is left out while `offered()` is false: the bank transfer
through Stripe without a Stripe key).
"""
from __future__ import annotations

from collections.abc import Callable

Start = Callable[..., "str | None"]

_METHODS: dict[str, tuple[object, Start]] = {}
_OFFERED: dict[str, Callable[[], bool]] = {}


def register(name: str, label, start: Start, *, offered: Callable[[], bool] | None = None) -> None:
    """Add (or, registered again, replace) a way to pay; `label` is shown to the manager."""
    if not name or not callable(start):
        raise ValueError("a payment method needs a name and a start function")
    _METHODS[name] = (label, start)
    if offered is None:
        _OFFERED.pop(name, None)
    else:
        _OFFERED[name] = offered


def available() -> list[tuple[str, object, Start]]:
    """(name, label, start) of each method offered now, in the order of registration."""
    return [(name, label, start) for name, (label, start) in _METHODS.items()
            if name not in _OFFERED or _OFFERED[name]()]
