"""The two figures of the limited-network exemption (réseau limité, articles L.521-3 and
L.525-5 of the Code monétaire et financier), each against its threshold (1 million euros, the
setting GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS): the payments made with the cards over the
last 12 months, and the value outstanding on unexpired cards. Read-only queries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from marketplace.db import db, utcnow
from marketplace.giftcards.models import CardTransaction, GiftCard, TransactionKind
from marketplace.giftcards.services import add_months

OK, NEAR, OVER = "ok", "near", "over"


@dataclass(frozen=True)
class Figure:
    cents: int
    threshold_cents: int
    warning_percent: int

    @property
    def ratio(self) -> Decimal:
        """Share of the threshold reached: 0.125 for 12.5 %."""
        return (Decimal(self.cents) / Decimal(self.threshold_cents)).quantize(Decimal("0.001"))

    @property
    def basis_points(self) -> int:
        """The share in basis points, for the `rate` filter: 1250 for 12.5 %."""
        return int(self.ratio * 10000)

    @property
    def level(self) -> str:
        """OVER past the threshold, NEAR from the warning share of it, else OK."""
        if self.cents > self.threshold_cents:
            return OVER
        if self.cents * 100 >= self.threshold_cents * self.warning_percent:
            return NEAR
        return OK


@dataclass(frozen=True)
class NetworkFigures:
    since: datetime
    now: datetime
    redeemed_cents: int  # spent online and at counters
    refunded_cents: int  # put back on cards (orders cancelled, refunded, never paid)
    donated_cents: int  # given by holders to associations (not what expiry gives away)
    payments: Figure
    outstanding: Figure


def limited_network_figures(now: datetime | None = None) -> NetworkFigures:
    now = now or utcnow()
    since = add_months(now, -12)
    config = current_app.config
    threshold = int(config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"])
    warning = int(config["GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT"])
    amount, kind = CardTransaction.amount_cents, CardTransaction.kind

    def total(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, amount), else_=0)), 0)

    redeemed, refunded, donated = db.session.execute(
        sa.select(
            -total(kind == TransactionKind.REDEEM),
            total(kind == TransactionKind.REFUND),
            -total(sa.and_(kind == TransactionKind.DONATE, CardTransaction.reason != "expiry")),
        ).where(CardTransaction.created_at > since, CardTransaction.created_at <= now)
    ).one()
    # Blocked cards count: their value is still owed to their holders and may be unblocked.
    outstanding = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(GiftCard.balance_cents), 0))
        .where(GiftCard.expires_at > now))
    payments = max(int(redeemed) - int(refunded) + int(donated), 0)
    return NetworkFigures(
        since=since, now=now, redeemed_cents=int(redeemed), refunded_cents=int(refunded),
        donated_cents=int(donated),
        payments=Figure(payments, threshold, warning),
        outstanding=Figure(int(outstanding), threshold, warning),
    )
