"""What the orders domain tells the domains above it (blinker, as Flask uses), sent inside the
unit of work, under the order's row lock, by `orders.services.mark_paid`:

- `order_paying` (sender: the order, locked): a payment for this unpaid (or expired) order is
  confirmed. A receiver that returns False says that what the order pays for can no longer be
  sold (a works council's campaign paid meanwhile by another means, or cancelled): the order is
  then not paid, and the whole payment is due back (refunded by the payments domain, as a
  payment that came too late). Any other answer lets the payment through.
- `order_paid` (sender: the order): the order has just become paid (once per order).

Receivers take their own locks after the order's, never before it.
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
order_paying = signals.signal("order-paying")
order_paid = signals.signal("order-paid")


def payment_refused(order) -> bool:
    """True when a receiver of `order_paying` refused the payment of `order`."""
    return any(answer is False for _receiver, answer in order_paying.send(order))
