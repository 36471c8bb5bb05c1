"""What a campaign tells whoever follows it (blinker, as Flask uses), sent inside the unit of
work that made the change; a receiver that must act after the commit queues with
`uow.after_commit`.

- `campaign_paid` (sender: the campaign): the works council paid the campaign (transfer
  received in full, or the card payment went through); its cards are to be issued.
- `cards_issued` (sender: the campaign): every beneficiary has their card; the invoice is due.
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
campaign_paid = signals.signal("campaign-paid")
cards_issued = signals.signal("campaign-cards-issued")
