"""What the orders domain tells the domains above it (blinker, as Flask uses), sent inside the
unit of work. The receivers live in those domains and are connected when their modules are
imported (create_app imports them all, see marketplace/__init__.py).

At checkout (`orders.services.checkout`):

- `order_placed` (sender: the order; cart: the CartView ordered): the order, its parts, lines
  and holds are written (flushed), before the stock and slot locks are taken. A receiver
  writes what the cart sells besides goods (giftcards.purchase: the gift cards bought become
  the order's card lines).

When a payment is confirmed (`orders.services.mark_paid`, under the order's row lock), in
this order:

- `order_paying` (sender: the order, locked): a payment for this unpaid (or expired) order is
  confirmed. A receiver that returns False says that what the order pays for can no longer be
  sold (a works council's campaign paid meanwhile by another means, or cancelled): the order is
  then not paid, and the whole payment is due back (refunded by the payments domain, as a
  payment that came too late). Any other answer lets the payment through.
- `order_sold` (sender: the order): the order has just become paid (once per order), each
  part's commission fixed. Receivers record what it sold: the ledger credits each part's
  seller (ledger.services), the gift cards it bought are issued, and emailed when due
  (giftcards.purchase). Each writes rows of its own: their order does not matter.
- `confirmation_due` (sender: the order): the shopper's confirmation is to be queued now,
  after the cards' own emails. The vouchers domain issues each part's voucher and queues the
  email with them (vouchers.notify).
- `order_paid` (sender: the order): the order is paid and confirmed (a works council's
  campaign paid by card: campaigns.card_payment).

Back from the payment page (`orders.views`, the cart of the browser that ordered):

- `order_left_cart` (sender: the order, paid; cart: the shopper's cart): what the order bought
  leaves the cart, once. A receiver removes its own lines (giftcards.purchase: the gift cards
  bought); the goods' lines are taken off after it.

Asked by the payment page (`orders.payment_methods.payment_lines`):

- `extra_items` (sender: the order): each receiver returns what the order sells besides goods,
  as (name, amount_cents) pairs (giftcards.purchase: one per gift card bought).

Receivers take their own locks after the order's, never before it.
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
order_placed = signals.signal("order-placed")
order_paying = signals.signal("order-paying")
order_sold = signals.signal("order-sold")
confirmation_due = signals.signal("confirmation-due")
order_paid = signals.signal("order-paid")
order_left_cart = signals.signal("order-left-cart")
extra_items = signals.signal("extra-items")


def payment_refused(order) -> bool:
    """True when a receiver of `order_paying` refused the payment of `order`."""
    return any(answer is False for _receiver, answer in order_paying.send(order))
