"""When a gift card can be spent, defined once: as a SQL condition (`spendable`, for the
statements that check and change the balance in one go) and as its Python twin
(`not_spendable_because`, for a card already loaded, and to say why a debit was refused).

Both are built from the same two facts (`SPENDABLE_STATUS`, and "expires after now"); a test
(tests/giftcards/test_rules.py) checks that they agree on every kind of card.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from marketplace.giftcards.models import CardStatus, GiftCard
from marketplace.i18n import format_day
from marketplace.i18n import lazy_gettext as _l

SPENDABLE_STATUS = CardStatus.ACTIVE


def spendable(now: datetime, card=GiftCard) -> sa.ColumnElement[bool]:
    """The SQL condition: the card's status lets it be spent and it has not expired at `now`.
    `card`: the mapped class (default) or any selectable with the gift_card's columns."""
    columns = getattr(card, "c", card)
    return sa.and_(columns.status == SPENDABLE_STATUS, columns.expires_at > now)


def not_spendable_because(card: GiftCard, now: datetime):
    """None when `spendable(now)` holds for the card, else the message saying why not."""
    if card.status != SPENDABLE_STATUS:
        return _l("This card is blocked: it was reported lost or stolen.")
    if not card.expires_at > now:
        return _l("This card expired on %(date)s.", date=format_day(card.expires_at, "long"))
    return None
