"""The good the sales do, from the products' impact kind and reuse weight (catalog.models) and
the paid orders: objects reused, kilograms kept out of landfill, amounts per kind, sellers
supported. For a seller (its shopfront's line, its yearly report) and for a works council's
campaign (what its employees bought with the campaign's cards).

What counts: the units sold and not refunded (quantity less refunded quantity) of the order
parts paid, ready, collected or partly refunded; a part nobody came for (no-show) did not
leave the shop. An object reused is a unit of a product of kind "reuse" or "repair"; the
weight kept out of landfill is the units times the product's reuse weight, whatever its kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import sqlalchemy as sa

from marketplace.campaigns.models import Beneficiary, Campaign
from marketplace.catalog.models import ImpactKind, Product
from marketplace.db import db
from marketplace.giftcards.models import CardTransaction, OrderCardPayment, TransactionKind
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus

S = OrderStatus
DELIVERED = (S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED)
REUSED_KINDS = (ImpactKind.REUSE, ImpactKind.REPAIR)


@dataclass(frozen=True)
class KindFigures:
    kind: ImpactKind | None  # None: products without an impact kind
    units: int
    cents: int
    sellers: int


@dataclass(frozen=True)
class Impact:
    items_reused: int
    grams: int  # kept out of landfill
    orders: int  # order parts
    sellers: int
    kinds: list[KindFigures] = field(default_factory=list)  # largest amount first
    counter_cents: int = 0  # campaigns: spent at counters (what was bought is not known)
    counter_sellers: int = 0

    @property
    def kinds_supported(self) -> list[ImpactKind]:
        return [k.kind for k in self.kinds if k.kind is not None and k.units > 0]

    @property
    def cents(self) -> int:
        return sum(k.cents for k in self.kinds)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return (datetime.combine(date(year, 1, 1), time(), UTC),
            datetime.combine(date(year + 1, 1, 1), time(), UTC))


def _impact(conditions: list) -> Impact:
    units = OrderLine.quantity - OrderLine.refunded_quantity
    base = (sa.select()
            .select_from(OrderLine)
            .join(OrderPart, OrderPart.id == OrderLine.part_id)
            .join(Order, Order.id == OrderPart.order_id)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderPart.status.in_(DELIVERED), *conditions))
    rows = db.session.execute(
        base.add_columns(Product.impact_kind, sa.func.coalesce(sa.func.sum(units), 0),
                         sa.func.coalesce(sa.func.sum(units * OrderLine.unit_price_cents), 0),
                         sa.func.count(sa.distinct(OrderPart.organization_id)))
        .group_by(Product.impact_kind)).all()
    grams, reused, orders, sellers = db.session.execute(
        base.add_columns(
            sa.func.coalesce(sa.func.sum(units * Product.reuse_weight_grams), 0),
            sa.func.coalesce(sa.func.sum(units).filter(Product.impact_kind.in_(REUSED_KINDS)), 0),
            sa.func.count(sa.distinct(OrderPart.id)),
            sa.func.count(sa.distinct(OrderPart.organization_id)))).one()
    kinds = [KindFigures(ImpactKind(kind) if kind else None, int(n), int(cents), int(s))
             for kind, n, cents, s in rows if n]
    kinds.sort(key=lambda k: (k.kind is None, -k.cents))
    return Impact(items_reused=int(reused), grams=int(grams), orders=int(orders),
                  sellers=int(sellers), kinds=kinds)


def seller_impact(organization_id: int, year: int | None = None) -> Impact:
    """A seller's impact, in all (its shopfront) or for a calendar year (by payment date)."""
    conditions = [OrderPart.organization_id == organization_id]
    if year is not None:
        start, end = year_bounds(year)
        conditions += [Order.paid_at >= start, Order.paid_at < end]
    return _impact(conditions)


def campaign_impact(campaign: Campaign) -> Impact:
    """What the campaign's cards bought online (the orders they paid, at least in part), and
    what they paid at sellers' counters (an amount per seller: the goods are not recorded)."""
    cards = sa.select(Beneficiary.card_id).where(Beneficiary.campaign_id == campaign.id,
                                                Beneficiary.card_id.is_not(None))
    orders = sa.select(OrderCardPayment.order_id).where(OrderCardPayment.card_id.in_(cards))
    online = _impact([Order.id.in_(orders)])
    counter_cents, counter_sellers = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(CardTransaction.amount_cents), 0),
                  sa.func.count(sa.distinct(CardTransaction.organization_id)))
        .where(CardTransaction.card_id.in_(cards), CardTransaction.kind == TransactionKind.REDEEM,
               CardTransaction.order_id.is_(None))).one()
    sellers = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(CardTransaction.organization_id)))
        .where(CardTransaction.card_id.in_(cards), CardTransaction.kind == TransactionKind.REDEEM,
               CardTransaction.order_id.is_(None)).where(
            CardTransaction.organization_id.not_in(
                sa.select(OrderPart.organization_id).where(OrderPart.order_id.in_(orders),
                                                           OrderPart.status.in_(DELIVERED)))))
    return Impact(items_reused=online.items_reused, grams=online.grams, orders=online.orders,
                  sellers=online.sellers + int(sellers or 0), kinds=online.kinds,
                  counter_cents=-int(counter_cents), counter_sellers=int(counter_sellers))
