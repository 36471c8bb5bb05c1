"""How a works council may pay an accepted quote: a registry that the payment modules fill at
import, and that the campaign page's choice form is built from.

    register(name, label, start)

`start(campaign, proforma, *, return_url)` is called once the quote is accepted and its
pro-forma issued (campaigns.billing.accept_quote), inside the request's unit of work. It returns
the URL to send the manager to (a payment page), or None to come back to the campaign page
(which then shows how to pay the pro-forma by transfer). It raises a DomainError to refuse.
`return_url` is the campaign page's absolute address, where a payment page sends the manager
back. A method that takes the money calls `campaigns.billing.paid_by_card` (or records a
transfer against the pro-forma) once it is received.

The choices are offered in the order the methods were registered; registering a name again
replaces it (a module imported twice).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Start = Callable[..., "str | None"]


@dataclass(frozen=True)
class PaymentMethod:
    name: str
    label: object  # a lazy string, shown in the choice form
    start: Start


_METHODS: dict[str, PaymentMethod] = {}


def register(name: str, label, start: Start) -> None:
    if not name or not callable(start):
        raise ValueError("a payment method needs a name and a start function")
    _METHODS[name] = PaymentMethod(name, label, start)


def methods() -> list[PaymentMethod]:
    return list(_METHODS.values())


def get(name: str) -> PaymentMethod | None:
    return _METHODS.get(name)
