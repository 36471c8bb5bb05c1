"""What organizations tell the domains above them, which subscribe (blinker, as Flask uses)."""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()
# Sent (sender: the organization; changed: the names of the fields that changed) inside the
# unit of work once `services.update()` has saved an organization's details. The catalogue
# reindexes the seller's products when the name or town (part of their search text) changed.
organization_updated = signals.signal("organization-updated")
