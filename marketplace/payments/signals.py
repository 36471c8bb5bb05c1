"""What the payments domain tells the domains above it (blinker, as Flask uses), sent inside
the unit of work. The receivers are connected when their modules are imported (create_app
imports them all, see marketplace/__init__.py).

- `part_refunded` (sender: the Refund, applied; part: the OrderPart it refunds, locked, which
  was credited to its seller at payment): sent by `payments.refunds` once the gateway (or the
  gift cards) gave the money back. The ledger takes the seller's share of it off
  (ledger.services.debit_refund).
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
part_refunded = signals.signal("part-refunded")
