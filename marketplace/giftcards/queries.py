"""What the gift cards' admin pages read (giftcards.admin_views), named for what it returns."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.db import db
from marketplace.giftcards.models import GiftCard

CARDS_OF_EMAIL_LIMIT = 100


def cards_of_email(email: str) -> list[GiftCard]:
    """The cards bought by or given to `email` (in any case), newest first, at most
    CARDS_OF_EMAIL_LIMIT."""
    email = email.lower()
    return list(db.session.scalars(
        sa.select(GiftCard)
        .where(sa.or_(sa.func.lower(GiftCard.buyer_email) == email,
                      sa.func.lower(GiftCard.recipient_email) == email))
        .order_by(GiftCard.id.desc())
        .limit(CARDS_OF_EMAIL_LIMIT)
    ))
