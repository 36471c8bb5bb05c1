"""What the gift cards tell the domains above them (blinker, as Flask uses), inside the unit of
work of the change.

- `card_expired` (sender: the card; amount_cents: what was left; association_id: the
  association it was given to, or None when it was kept): sent by `services.expire_due` for
  each card it expired. A works council's campaign turns what was kept into a credit.
- `card_donated` (sender: the card's DONATE transaction, just written; association: the
  Organization it went to): sent by `services.donate` and `services.expire_due`, before the
  audit line. The ledger credits the association (ledger.services.credit_donation).
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
card_expired = signals.signal("card-expired")
card_donated = signals.signal("card-donated")
