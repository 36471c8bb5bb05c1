"""Named gift cards issued by the thousand (a works council's campaign): each card and its ISSUE
transaction are written by Core executemany statements, not one ORM object per card, with one
audit line for the whole batch.

A named card carries its holder's name and email. It is not an anonymous prepaid card, so the
anonymous cards' cap (GIFTCARD_MAX_CENTS) does not apply; CAMPAIGN_CARD_MAX_CENTS caps it
(DOMAIN.md, "Gift cards"). The codes are drawn by `codes.new_code`, and a batch's codes are
checked against the table and against each other in one query before anything is written;
UNIQUE(code) stays the last guard.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from marketplace import audit
from marketplace.db import db, utcnow
from marketplace.giftcards import codes
from marketplace.giftcards.models import CardStatus, CardTransaction, GiftCard, TransactionKind
from marketplace.giftcards.services import CardError, add_months
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter

CODE_DRAWS = 5  # rounds of new draws for the codes already taken (each round: one query)
MAX_BATCH = 5000  # cards per call (the collision check sends their codes in one IN list)
MIN_MONTHS = 12  # our rule: a card is valid for a year at least (DOMAIN.md)

_CARD = GiftCard.__table__
_TRANSACTION = CardTransaction.__table__


@dataclass(frozen=True)
class NamedCard:
    """One card to issue: whose it is and what it is worth."""

    holder_name: str
    holder_email: str
    amount_cents: int
    locale: str = "fr"


def max_cents() -> int:
    return int(current_app.config["CAMPAIGN_CARD_MAX_CENTS"])


def check(rows: Sequence[NamedCard], *, months: int) -> None:
    """CardError (400) unless every row can become a card: a name, an email, an amount above
    zero and at most CAMPAIGN_CARD_MAX_CENTS, a validity of 12 months or more."""
    if not 0 < len(rows) <= MAX_BATCH:
        raise CardError(_l("Between 1 and %(max)s cards are issued at once.", max=MAX_BATCH),
                        status_code=400)
    if not isinstance(months, int) or months < MIN_MONTHS:
        raise CardError(_l("The cards are valid for 12 months at least."), status_code=400)
    high = max_cents()
    for row in rows:
        amount = row.amount_cents
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= high:
            raise CardError(_l("A named card is worth more than zero and at most %(max)s "
                               "(card of %(email)s).", max=money_filter(high),
                               email=row.holder_email), status_code=400)
        if not (row.holder_name or "").strip() or "@" not in (row.holder_email or ""):
            raise CardError(_l("A named card needs its holder's name and email."),
                            status_code=400)


def free_codes(count: int) -> list[str]:
    """`count` new codes, distinct from each other and from every card's (one query per
    round; a round draws again only the codes found taken)."""
    chosen: set[str] = set()
    for _round in range(CODE_DRAWS):
        drawn: set[str] = set()
        while len(drawn) < count - len(chosen):
            drawn.update(code for code in codes.new_codes(count - len(chosen) - len(drawn))
                         if code not in chosen)
        taken = set(db.session.scalars(_with_codes(drawn)))
        chosen |= drawn - taken
        if len(chosen) == count:
            return list(chosen)
    raise RuntimeError("no free gift card codes after several draws")  # pragma: no cover


def _with_codes(card_codes) -> sa.Select:
    """(code, id) of the cards that have one of these codes. On PostgreSQL the codes are one
    array parameter joined as a table: each probes UNIQUE(code)'s index, or both sides are
    hashed; never every card compared with the whole array (what `code = ANY(...)` costs when
    a generic plan, made on the statistics of a smaller table, scans it), nor one parameter per
    code (whose rendering costs more than the query itself)."""
    card_codes = sorted(card_codes)
    query = sa.select(_CARD.c.code, _CARD.c.id)
    if db.session.get_bind().dialect.name == "postgresql":
        drawn = sa.func.unnest(sa.literal(card_codes, postgresql.ARRAY(sa.String))) \
            .table_valued("code").render_derived(name="drawn")
        return query.join(drawn, _CARD.c.code == drawn.c.code)
    return query.where(_CARD.c.code.in_(card_codes))


def issue_named(rows: Sequence[NamedCard], *, valid_from: datetime, months: int, subject,
                restriction_profile_id: int | None = None,
                expiry_association_id: int | None = None, buyer_name: str = "",
                buyer_email: str = "", by=None, organization=None,
                audit_data: dict | None = None, now: datetime | None = None) -> list[int]:
    """Issue one named card per row, valid `months` from `valid_from` (an aware datetime: the
    months are counted in its own time zone, so a Paris midnight stays a Paris midnight), to be
    spent within the restriction profile if one is named; what is left at expiry goes to
    `expiry_association_id` if named (else it is kept: see services.expire_due). Returns the new cards' ids, in the
    order of `rows`. One audit line ("giftcard.issued_named") about `subject` (the batch's
    reason: a campaign) tells how many cards, and their total."""
    check(rows, months=months)
    if valid_from.tzinfo is None:
        raise ValueError("valid_from must be timezone-aware")
    now = now or utcnow()
    expires_at = add_months(valid_from, months).astimezone(UTC)
    by_id = getattr(by, "id", None)
    card_codes = free_codes(len(rows))
    session = db.session
    cards = [
        {"code": code, "currency": "EUR", "initial_cents": row.amount_cents,
         "balance_cents": row.amount_cents, "status": CardStatus.ACTIVE, "expires_at": expires_at,
         "buyer_name": buyer_name, "buyer_email": buyer_email, "locale": row.locale or "fr",
         "holder_name": row.holder_name.strip()[:250],
         "holder_email": row.holder_email.strip().lower()[:254],
         "restriction_profile_id": restriction_profile_id,
         "expiry_association_id": expiry_association_id, "created_at": now, "updated_at": now}
        for code, row in zip(card_codes, rows, strict=True)
    ]
    # One prepared INSERT sent for every card (executemany, pipelined on PostgreSQL), then the
    # ids read back by code: a multi-row INSERT ... RETURNING would be rendered with 16
    # parameters per card, a cost that grows faster than the writes themselves.
    session.execute(sa.insert(_CARD), cards)
    id_of = dict(session.execute(_with_codes(card_codes)).all())
    ids = [id_of[code] for code in card_codes]
    session.execute(sa.insert(_TRANSACTION), [
        {"card_id": card_id, "kind": TransactionKind.ISSUE, "amount_cents": row.amount_cents,
         "balance_after_cents": row.amount_cents, "by_id": by_id, "reason": "",
         "created_at": now}
        for card_id, row in zip(ids, rows, strict=True)
    ])
    audit.record("giftcard.issued_named", subject, by=by, organization=organization, data={
        **(audit_data or {}), "count": len(rows),
        "total_cents": sum(row.amount_cents for row in rows),
        "expires_at": expires_at.isoformat()})
    return ids
