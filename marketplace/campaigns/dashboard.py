"""What a works council sees of its campaign once the cards are out: how many were sent, opened,
spent in part or in full; the amounts spent, given away and left; spending per day and per kind
of seller; and each employee's balance only where the employee agreed (GiftCard
.balance_shared_at). Every figure is one grouped query over the campaign's cards, whatever
their number.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from marketplace.campaigns.models import Beneficiary, Campaign
from marketplace.db import db
from marketplace.giftcards.models import CardStatus, CardTransaction, GiftCard, TransactionKind
from marketplace.organizations.models import EssStatus, Organization


@dataclass(frozen=True)
class Figures:
    cards: int
    sent: int
    opened: int
    spent_in_part: int  # some spent, some left
    spent_in_full: int  # nothing left, all of it spent or given
    cancelled: int
    issued_cents: int
    spent_cents: int  # at sellers, online and at counters, less refunds
    refunded_cents: int  # given back to the cards (orders cancelled or refunded)
    given_cents: int  # given to associations by the employees
    left_cents: int  # on the cards still active


@dataclass(frozen=True)
class DaySpending:
    day: date
    cents: int


@dataclass(frozen=True)
class KindSpending:
    kind: EssStatus
    cents: int
    sellers: int


def _cards(campaign: Campaign) -> sa.Select:
    return (sa.select(Beneficiary.card_id).where(Beneficiary.campaign_id == campaign.id,
                                                 Beneficiary.card_id.is_not(None)))


def figures(campaign: Campaign) -> Figures:
    card_ids = _cards(campaign).scalar_subquery()
    active = GiftCard.status == CardStatus.ACTIVE
    row = db.session.execute(
        sa.select(
            sa.func.count(GiftCard.id),
            sa.func.count(GiftCard.opened_at),
            sa.func.count(GiftCard.id).filter(active, GiftCard.balance_cents > 0,
                                              GiftCard.balance_cents < GiftCard.initial_cents),
            sa.func.count(GiftCard.id).filter(active, GiftCard.balance_cents == 0),
            sa.func.count(GiftCard.id).filter(GiftCard.status != CardStatus.ACTIVE),
            sa.func.coalesce(sa.func.sum(GiftCard.initial_cents), 0),
            sa.func.coalesce(sa.func.sum(GiftCard.balance_cents).filter(active), 0),
        ).where(GiftCard.id.in_(card_ids))).one()
    moves = dict(db.session.execute(
        sa.select(CardTransaction.kind, sa.func.coalesce(sa.func.sum(CardTransaction.amount_cents), 0))
        .where(CardTransaction.card_id.in_(card_ids),
               CardTransaction.kind.in_([TransactionKind.REDEEM, TransactionKind.REFUND,
                                         TransactionKind.DONATE]))
        .group_by(CardTransaction.kind)).all())
    sent = db.session.scalar(sa.select(sa.func.count(Beneficiary.sent_at)).where(
        Beneficiary.campaign_id == campaign.id))
    cards, opened, in_part, in_full, cancelled, issued, left = (int(value) for value in row)
    return Figures(
        cards=cards, sent=int(sent), opened=opened, spent_in_part=in_part, spent_in_full=in_full,
        cancelled=cancelled, issued_cents=issued,
        spent_cents=-int(moves.get(TransactionKind.REDEEM, 0))
        - int(moves.get(TransactionKind.REFUND, 0)),
        refunded_cents=int(moves.get(TransactionKind.REFUND, 0)),
        given_cents=-int(moves.get(TransactionKind.DONATE, 0)), left_cents=left)


def spending_by_day(campaign: Campaign) -> list[DaySpending]:
    """Spending at sellers per day (UTC day of the payment), oldest first; refunds, which come
    back later from an order, are not taken off the day the money was spent."""
    rows = db.session.execute(spending_by_day_query(campaign)).all()
    return [DaySpending(_as_date(value), -int(cents)) for value, cents in rows if cents]


def spending_by_day_query(campaign: Campaign) -> sa.Select:
    day = sa.func.date(CardTransaction.created_at)
    return (sa.select(day.label("day"), sa.func.sum(CardTransaction.amount_cents))
            .join(Beneficiary, Beneficiary.card_id == CardTransaction.card_id)
            .where(Beneficiary.campaign_id == campaign.id,
                   CardTransaction.kind == TransactionKind.REDEEM)
            .group_by(day).order_by(day))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def spending_by_kind(campaign: Campaign) -> list[KindSpending]:
    """Spending per kind of seller (association, cooperative, integration enterprise...), as paid
    (before refunds, which are not tied to a seller), largest first."""
    rows = db.session.execute(
        sa.select(Organization.ess_status, sa.func.sum(CardTransaction.amount_cents),
                  sa.func.count(sa.distinct(Organization.id)))
        .join(Organization, Organization.id == CardTransaction.organization_id)
        .join(Beneficiary, Beneficiary.card_id == CardTransaction.card_id)
        .where(Beneficiary.campaign_id == campaign.id,
               CardTransaction.kind == TransactionKind.REDEEM)
        .group_by(Organization.ess_status)).all()
    found = [KindSpending(EssStatus(kind), -int(cents), int(sellers))
             for kind, cents, sellers in rows if cents]
    return sorted(found, key=lambda item: -item.cents)


@dataclass(frozen=True)
class Line:
    """One employee as the works council may see them: the balance only if they agreed."""

    beneficiary: Beneficiary
    opened: bool
    shared: bool
    balance_cents: int | None


def lines(campaign: Campaign, *, shared_only: bool = False, limit: int | None = None) -> list[Line]:
    """Every employee of the campaign (the exports), or only those who show their balance (the
    page: a few among thousands, read as such)."""
    query = (sa.select(Beneficiary, GiftCard.opened_at, GiftCard.balance_shared_at,
                       GiftCard.balance_cents)
             .join(GiftCard, GiftCard.id == Beneficiary.card_id)
             .where(Beneficiary.campaign_id == campaign.id)
             .order_by(Beneficiary.line, Beneficiary.id))
    if shared_only:
        query = query.where(GiftCard.balance_shared_at.is_not(None))
    rows = db.session.execute(query.limit(limit)).all()
    return [Line(beneficiary, opened_at is not None, shared_at is not None,
                 balance if shared_at is not None else None)
            for beneficiary, opened_at, shared_at, balance in rows]


def bar_chart(values: list[tuple[str, int]], *, width: int = 640, bar: int = 22,
              gap: int = 8, label_width: int = 150) -> dict:
    """What templates/campaigns/_bars.svg draws: one horizontal bar per (label, cents), scaled
    to the largest; drawn on the server (no script, nothing fetched)."""
    top = max((cents for _label, cents in values), default=0) or 1
    room = width - label_width - 90
    bars = [{"label": label, "cents": cents, "y": i * (bar + gap),
             "length": max(1, round(room * cents / top)) if cents > 0 else 0}
            for i, (label, cents) in enumerate(values)]
    return {"bars": bars, "width": width, "height": max(1, len(values)) * (bar + gap),
            "bar": bar, "label_width": label_width}
