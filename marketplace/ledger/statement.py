"""A seller's statement of account for a period (local days, both included): the balance at
the start, each entry of the ledger in the period with its reference, and the balance at the
end. Every figure is read from the ledger entries, so the totals add up by construction:
closing = opening + sales + cards + donations + refunds - commission + payouts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import local_zone
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout

MAX_DAYS = 2 * 366  # two years (a financial year that is not a calendar year, and the next)
FIRST_DAY = date(2000, 1, 1)
PAYOUT_KINDS = (EntryKind.PAYOUT, EntryKind.PAYOUT_FAILED)


class StatementError(DomainError):
    status_code = 400


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @classmethod
    def month_of(cls, day: date) -> Period:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(date(day.year, 1, 1), date(day.year, 12, 31))

    def previous_month(self) -> Period:
        return Period.month_of(self.start - timedelta(days=1))

    @property
    def is_month(self) -> bool:
        return self == Period.month_of(self.start)

    def bounds(self) -> tuple[datetime, datetime]:
        """From local midnight of the first day to local midnight after the last one."""
        zone = local_zone()
        return (datetime.combine(self.start, time(0), tzinfo=zone),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone))


def parse_period(start: str | None, end: str | None, *, today: date) -> Period:
    """The period asked for (ISO dates, as date fields send them), this month when none is.
    StatementError (400) says what is wrong with a bad one."""
    if not start and not end:
        return Period.month_of(today)
    try:
        first = date.fromisoformat((start or "").strip()[:10])
        last = date.fromisoformat((end or "").strip()[:10])
    except ValueError:
        raise StatementError(_l("Choose the first and the last day of the period.")) from None
    if last < first:
        raise StatementError(_l("The last day of the period comes before its first day."))
    if first < FIRST_DAY or last > today + timedelta(days=366):
        raise StatementError(_l("Choose a period between the year 2000 and next year."))
    if (last - first).days >= MAX_DAYS:
        raise StatementError(_l("Choose a period of at most two years."))
    return Period(first, last)


@dataclass
class StatementLine:
    entry: LedgerEntry
    reference: str  # the order, the card (last characters only), the transfer
    balance_after_cents: int

    @property
    def kind(self) -> EntryKind:
        return self.entry.kind

    @property
    def is_payout(self) -> bool:
        return self.entry.kind in PAYOUT_KINDS


@dataclass
class Statement:
    organization: object
    period: Period
    opening_cents: int
    lines: list[StatementLine] = field(default_factory=list)

    def _sum(self, attribute: str, *kinds: EntryKind) -> int:
        return sum(getattr(line.entry, attribute) for line in self.lines
                   if not kinds or line.entry.kind in kinds)

    @property
    def sales_cents(self) -> int:
        return self._sum("gross_cents", EntryKind.SALE)

    @property
    def cards_cents(self) -> int:
        return self._sum("gross_cents", EntryKind.CARD)

    @property
    def donations_cents(self) -> int:
        return self._sum("gross_cents", EntryKind.DONATION)

    @property
    def refunds_cents(self) -> int:
        return self._sum("gross_cents", EntryKind.REFUND)  # negative

    @property
    def gross_cents(self) -> int:
        return self._sum("gross_cents")

    @property
    def commission_cents(self) -> int:
        return self._sum("commission_cents")  # net of what refunds gave back

    @property
    def payouts_cents(self) -> int:
        return self._sum("amount_cents", *PAYOUT_KINDS)  # negative

    @property
    def net_cents(self) -> int:
        return self._sum("amount_cents")

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + self.net_cents


def _card_codes(entries) -> dict[int, str]:
    """The card code of each card or donation entry (its source names the card transaction)."""
    by_transaction = {}
    for entry in entries:
        prefix, _sep, number = entry.source.partition(":")
        if entry.kind in (EntryKind.CARD, EntryKind.DONATION) and number.isdigit():
            by_transaction[int(number)] = entry.id
    if not by_transaction:
        return {}
    rows = db.session.execute(
        sa.select(CardTransaction.id, GiftCard.code)
        .join(GiftCard, GiftCard.id == CardTransaction.card_id)
        .where(CardTransaction.id.in_(by_transaction))
    ).all()
    return {by_transaction[transaction_id]: code for transaction_id, code in rows}


def _transfers(entries) -> dict[int, str | None]:
    ids = {entry.payout_id for entry in entries if entry.payout_id}
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Payout.id, Payout.transfer_id).where(Payout.id.in_(ids))).all())


def card_reference(code: str) -> str:
    """What a statement shows of a card: its last 4 characters, as bank card receipts do."""
    return "…" + code[-4:]


def _reference(entry: LedgerEntry, codes: dict[int, str], transfers: dict) -> str:
    if entry.kind in (EntryKind.CARD, EntryKind.DONATION):
        code = codes.get(entry.id)
        return card_reference(code) if code else ""
    if entry.kind in PAYOUT_KINDS:
        return transfers.get(entry.payout_id) or f"#{entry.payout_id}"
    return entry.reference


def statement(organization, period: Period) -> Statement:
    start, end = period.bounds()
    where = LedgerEntry.organization_id == organization.id
    opening = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0))
        .where(where, LedgerEntry.created_at < start))
    entries = list(db.session.scalars(
        sa.select(LedgerEntry)
        .where(where, LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)))
    codes, transfers = _card_codes(entries), _transfers(entries)
    result = Statement(organization, period, int(opening))
    running = result.opening_cents
    for entry in entries:
        running += entry.amount_cents
        result.lines.append(StatementLine(entry, _reference(entry, codes, transfers), running))
    return result
