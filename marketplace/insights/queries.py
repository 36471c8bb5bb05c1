"""What a seller's dashboard reads: views (marketplace/audience.py), orders and revenue per day,
its products' views, orders and conversion, its pickup slots' fill and no-show rates, the
gift cards spent at it, and where its visitors came from. Every figure is one grouped query
over the period; days are UTC days (as the page views are counted).

An order counts from the day it was paid, once per seller's part: paid, ready, collected,
partly refunded, or not collected (no-show: it was paid). Revenue is what the shoppers paid for
the part less what was refunded of it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace.audience import PageKind, PageViewDay
from marketplace.catalog.models import Product
from marketplace.db import db
from marketplace.giftcards.models import CardTransaction, TransactionKind
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from marketplace.pickup.models import PickupLocation, PickupSlot

S = OrderStatus
SOLD = (S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED, S.NO_SHOW)
LOCAL_TIME = ZoneInfo("Europe/Paris")
TOP_PRODUCTS = 10
TOP_SLOTS = 8
TOP_REFERRERS = 10


@dataclass(frozen=True)
class Period:
    start: date  # first day, included
    end: date  # last day, included

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC datetimes."""
        from datetime import UTC

        return (datetime.combine(self.start, time(), UTC),
                datetime.combine(self.end + timedelta(days=1), time(), UTC))


@dataclass(frozen=True)
class Day:
    day: date
    views: int
    orders: int
    revenue_cents: int


@dataclass(frozen=True)
class ProductFigures:
    product_id: int
    title: str
    views: int
    orders: int
    units: int
    revenue_cents: int

    @property
    def conversion(self) -> float | None:
        """Orders per view (0.05 = 5 %), None without views."""
        return self.orders / self.views if self.views else None


@dataclass(frozen=True)
class SlotFigures:
    slots: int
    capacity: int
    booked: int
    collected: int
    no_shows: int

    @property
    def fill_rate(self) -> float | None:
        return self.booked / self.capacity if self.capacity else None

    @property
    def no_show_rate(self) -> float | None:
        ended = self.collected + self.no_shows
        return self.no_shows / ended if ended else None


@dataclass(frozen=True)
class BusySlot:
    weekday: int  # Monday = 0, local time
    start: time  # local time
    orders: int


@dataclass(frozen=True)
class Referrer:
    domain: str  # audience.DIRECT, audience.INTERNAL or a domain
    views: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    days: list[Day]
    weeks: list[Day]  # `day` is the week's Monday
    products: list[ProductFigures]
    slots: SlotFigures
    busy_slots: list[BusySlot]
    referrers: list[Referrer]
    card_payments: int
    card_cents: int

    @property
    def views(self) -> int:
        return sum(d.views for d in self.days)

    @property
    def orders(self) -> int:
        return sum(d.orders for d in self.days)

    @property
    def revenue_cents(self) -> int:
        return sum(d.revenue_cents for d in self.days)

    @property
    def conversion(self) -> float | None:
        return self.orders / self.views if self.views else None


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _seller_views(organization_id: int) -> sa.ColumnElement:
    """The page views of this seller's pages: its shopfront and its products."""
    products = sa.select(Product.id).where(Product.organization_id == organization_id)
    return sa.or_(
        sa.and_(PageViewDay.kind == PageKind.SHOPFRONT.value, PageViewDay.object_id == organization_id),
        sa.and_(PageViewDay.kind == PageKind.PRODUCT.value, PageViewDay.object_id.in_(products)))


def views_by_day(organization_id: int, period: Period) -> dict[date, int]:
    rows = db.session.execute(
        sa.select(PageViewDay.day, sa.func.sum(PageViewDay.views))
        .where(_seller_views(organization_id), PageViewDay.day.between(period.start, period.end))
        .group_by(PageViewDay.day)).all()
    return {_as_date(day): int(views) for day, views in rows}


def _sold_parts(organization_id: int, period: Period):
    start, end = period.bounds()
    return (OrderPart.organization_id == organization_id, OrderPart.status.in_(SOLD),
            Order.paid_at >= start, Order.paid_at < end)


def orders_by_day(organization_id: int, period: Period) -> dict[date, tuple[int, int]]:
    """{day: (orders, revenue in cents)}."""
    day = sa.func.date(Order.paid_at)
    rows = db.session.execute(
        sa.select(day, sa.func.count(OrderPart.id),
                  sa.func.sum(OrderPart.subtotal_cents - OrderPart.refunded_cents))
        .join(Order, Order.id == OrderPart.order_id)
        .where(*_sold_parts(organization_id, period))
        .group_by(day)).all()
    return {_as_date(value): (int(count), int(cents or 0)) for value, count, cents in rows}


def top_products(organization_id: int, period: Period, limit: int = TOP_PRODUCTS) -> list[ProductFigures]:
    """The seller's products with views or orders in the period, by revenue then views."""
    sales = db.session.execute(
        sa.select(OrderLine.product_id, sa.func.count(sa.distinct(OrderPart.id)),
                  sa.func.sum(OrderLine.quantity - OrderLine.refunded_quantity),
                  sa.func.sum((OrderLine.quantity - OrderLine.refunded_quantity)
                              * OrderLine.unit_price_cents))
        .join(OrderPart, OrderPart.id == OrderLine.part_id)
        .join(Order, Order.id == OrderPart.order_id)
        .where(*_sold_parts(organization_id, period))
        .group_by(OrderLine.product_id)).all()
    views = dict(db.session.execute(
        sa.select(PageViewDay.object_id, sa.func.sum(PageViewDay.views))
        .join(Product, Product.id == PageViewDay.object_id)
        .where(PageViewDay.kind == PageKind.PRODUCT.value, Product.organization_id == organization_id,
               PageViewDay.day.between(period.start, period.end))
        .group_by(PageViewDay.object_id)).all())
    sold = {product_id: (int(orders), int(units or 0), int(cents or 0))
            for product_id, orders, units, cents in sales}
    ids = set(sold) | set(views)
    titles = dict(db.session.execute(
        sa.select(Product.id, Product.title).where(Product.id.in_(sorted(ids)))).all()) if ids else {}
    found = [ProductFigures(product_id, titles.get(product_id, ""), int(views.get(product_id, 0)),
                            *sold.get(product_id, (0, 0, 0)))
             for product_id in ids]
    found.sort(key=lambda p: (-p.revenue_cents, -p.views, p.title))
    return found[:limit]


def slot_figures(organization_id: int, period: Period) -> tuple[SlotFigures, list[BusySlot]]:
    """The seller's pickup slots that started in the period (closed ones left out): places
    offered and booked, parts collected and not collected; and the busiest times of the week."""
    start, end = period.bounds()
    in_period = (PickupLocation.organization_id == organization_id,
                 PickupSlot.starts_at >= start, PickupSlot.starts_at < end)
    slots, capacity, booked = db.session.execute(
        sa.select(sa.func.count(PickupSlot.id), sa.func.coalesce(sa.func.sum(PickupSlot.capacity), 0),
                  sa.func.coalesce(sa.func.sum(PickupSlot.booked), 0))
        .join(PickupLocation, PickupLocation.id == PickupSlot.location_id)
        .where(*in_period, PickupSlot.closed_reason.is_(None))).one()
    parts = db.session.execute(
        sa.select(PickupSlot.starts_at, OrderPart.status)
        .join(PickupSlot, PickupSlot.id == OrderPart.slot_id)
        .join(PickupLocation, PickupLocation.id == PickupSlot.location_id)
        .where(*in_period, OrderPart.organization_id == organization_id,
               OrderPart.status.in_(SOLD))).all()
    status = Counter(part_status for _starts, part_status in parts)
    figures = SlotFigures(int(slots), int(capacity), int(booked), status[S.COLLECTED], status[S.NO_SHOW])
    times: Counter = Counter()
    for starts_at, _status in parts:
        local = starts_at.astimezone(LOCAL_TIME)
        times[(local.weekday(), local.time().replace(second=0, microsecond=0))] += 1
    busy = [BusySlot(weekday, start_time, count)
            for (weekday, start_time), count in sorted(times.items(), key=lambda i: (-i[1], i[0]))]
    return figures, busy[:TOP_SLOTS]


def referrers(organization_id: int, period: Period, limit: int = TOP_REFERRERS) -> list[Referrer]:
    total = sa.func.sum(PageViewDay.views)
    rows = db.session.execute(
        sa.select(PageViewDay.referrer, total)
        .where(_seller_views(organization_id), PageViewDay.day.between(period.start, period.end))
        .group_by(PageViewDay.referrer).order_by(total.desc(), PageViewDay.referrer).limit(limit)).all()
    return [Referrer(domain, int(views)) for domain, views in rows]


def cards_spent(organization_id: int, period: Period) -> tuple[int, int]:
    """Gift-card payments at the seller (online and at the counter): (how many, cents)."""
    start, end = period.bounds()
    count, cents = db.session.execute(
        sa.select(sa.func.count(CardTransaction.id), sa.func.coalesce(sa.func.sum(CardTransaction.amount_cents), 0))
        .where(CardTransaction.organization_id == organization_id,
               CardTransaction.kind == TransactionKind.REDEEM,
               CardTransaction.created_at >= start, CardTransaction.created_at < end)).one()
    return int(count), -int(cents)


def _weeks(days: list[Day]) -> list[Day]:
    weeks: dict[date, list[int]] = {}
    for d in days:
        monday = d.day - timedelta(days=d.day.weekday())
        totals = weeks.setdefault(monday, [0, 0, 0])
        totals[0] += d.views
        totals[1] += d.orders
        totals[2] += d.revenue_cents
    return [Day(monday, *totals) for monday, totals in weeks.items()]


def dashboard(organization_id: int, period: Period) -> Dashboard:
    views = views_by_day(organization_id, period)
    sales = orders_by_day(organization_id, period)
    days = [Day(day, views.get(day, 0), *sales.get(day, (0, 0))) for day in period.days]
    slots, busy = slot_figures(organization_id, period)
    card_payments, card_cents = cards_spent(organization_id, period)
    return Dashboard(period=period, days=days, weeks=_weeks(days),
                     products=top_products(organization_id, period), slots=slots, busy_slots=busy,
                     referrers=referrers(organization_id, period), card_payments=card_payments,
                     card_cents=card_cents)
