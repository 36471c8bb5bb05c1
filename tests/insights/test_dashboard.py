"""The seller's dashboard: known sales, views, slots and gift cards in, the page's figures out,
checked against the database; the period picker refuses what it cannot read."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace import audience
from marketplace.catalog.models import ImpactKind
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.insights import views as insights_views
from marketplace.orders.models import Order, OrderLine, OrderPart, OrderStatus
from tests import factories
from tests.vouchers.helpers import make_shop, paid_order

TODAY = date(2026, 11, 30)
START, END = date(2026, 11, 1), TODAY


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def sales(app, monkeypatch):
    """Three paid orders on known days, one of them partly refunded, one not collected; views
    of the shopfront and the products on known days and referrers; a card paid at the counter."""
    monkeypatch.setattr(insights_views, "today", lambda: TODAY)
    shop = make_shop(capacity=10)
    seller = shop.organization
    lamp = factories.make_product(seller, title="Lampe de bureau", price_cents=1500, stock=10)
    chair = factories.make_product(seller, title="Chaise bistrot", price_cents=2000, stock=10)
    lamp.impact_kind, lamp.reuse_weight_grams = ImpactKind.REUSE, 1300
    other = factories.make_product(title="Bol", price_cents=900, stock=10)  # another seller
    db.session.commit()
    first = paid_order([(lamp, 2)], email="a@example.org")
    second = paid_order([(chair, 1), (lamp, 1)], email="b@example.org")
    third = paid_order([(chair, 3)], email="c@example.org")
    days = {first.id: date(2026, 11, 3), second.id: date(2026, 11, 3), third.id: date(2026, 11, 20)}
    for order in (first, second, third):
        order.paid_at = _at(days[order.id])
    parts = {p.order_id: p for p in db.session.scalars(sa.select(OrderPart).where(
        OrderPart.organization_id == seller.id))}
    parts[first.id].status = OrderStatus.COLLECTED
    parts[second.id].status = OrderStatus.NO_SHOW
    line = db.session.scalar(sa.select(OrderLine).where(OrderLine.part_id == parts[third.id].id))
    line.refunded_quantity = 1
    parts[third.id].refunded_cents = 2000
    parts[third.id].status = OrderStatus.PARTIALLY_REFUNDED
    shop.slot.starts_at = _at(date(2026, 11, 4), 14)  # a Wednesday, 15:00 in Paris
    shop.slot.ends_at = shop.slot.starts_at + timedelta(hours=2)
    card = cards.issue(5000, buyer_email="x@example.org", now=_at(date(2026, 11, 1)))
    db.session.flush()
    cards.redeem(card.id, 1200, organization=seller, nonce="n1", now=_at(date(2026, 11, 10)))
    db.session.commit()
    audience.write(Counter({
        (date(2026, 11, 3), "catalog.product", lamp.id, ""): 40,
        (date(2026, 11, 3), "catalog.product", lamp.id, "facebook.com"): 10,
        (date(2026, 11, 5), "catalog.product", chair.id, audience.INTERNAL): 25,
        (date(2026, 11, 20), "site.seller", seller.slug, ""): 7,
        (date(2026, 10, 20), "catalog.product", lamp.id, ""): 1000,  # before the period
        (date(2026, 11, 3), "catalog.product", other.id, ""): 500,  # another seller's
    }))
    return shop, lamp, chair


def _figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


def _cells(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


@pytest.mark.english
def test_the_dashboard_shows_the_databases_figures(client, login, sales):
    shop, lamp, chair = sales
    login(shop.manager)
    page = client.get(f"/orgs/{shop.organization.id}/dashboard?period=custom"
                      f"&start={START}&end={END}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    # What the database holds, read here without the dashboard's queries.
    start, end = _at(START, 0), _at(END + timedelta(days=1), 0)
    sold = [p for p in db.session.scalars(sa.select(OrderPart).where(
        OrderPart.organization_id == shop.organization.id))
        if start <= db.session.get(Order, p.order_id).paid_at < end
        and p.status not in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED)]
    revenue = sum(p.subtotal_cents - p.refunded_cents for p in sold)
    views = sum(r.views for r in db.session.scalars(sa.select(audience.PageViewDay))
                if START <= r.day <= END and (
                    (r.kind == "product" and r.object_id in (lamp.id, chair.id))
                    or (r.kind == "shopfront" and r.object_id == shop.organization.id)))
    assert (len(sold), revenue, views) == (3, 1500 * 2 + 2000 + 1500 + 2000 * 3 - 2000, 82)
    assert _figure(html, "views") == str(views)
    assert _figure(html, "orders") == str(len(sold))
    assert _figure(html, "revenue") == f"€{revenue // 100}.00" == "€105.00"
    assert _figure(html, "conversion") == "3.7%"  # 3 / 82
    assert _figure(html, "cards") == "1 payment, €12.00"
    assert _figure(html, "fill") == "3 / 10 (30.0%)"  # three parts booked the one slot
    assert _figure(html, "no-show") == "1 / 2 (50.0%)"

    # Per day: each day's row equals the database's.
    day_rows = dict(re.findall(r'<tr data-day="([0-9-]+)">(.*?)</tr>', html))
    assert len(day_rows) >= 30  # the per-day table, then the weeks (their Mondays)
    third = re.findall(r"<td[^>]*>(.*?)</td>", day_rows["2026-11-03"])
    assert third == ["50", "2", "€65.00"]  # lamp 40 + 10 views; orders 1 and 2
    twentieth = re.findall(r"<td[^>]*>(.*?)</td>", day_rows["2026-11-20"])
    assert twentieth == ["7", "1", "€40.00"]

    products = _cells(html, "products")
    assert products == [
        ["Chaise bistrot", "25", "2", "3", "€60.00", "8.0%"],  # 1 + 3 - 1 refunded
        ["Lampe de bureau", "50", "2", "3", "€45.00", "4.0%"],
    ]
    assert _cells(html, "slots") == [["Wednesday 15:00", "3"]]
    referrers = _cells(html, "referrers")
    assert referrers == [["No referring site", "47"], ["This marketplace", "25"],
                         ["facebook.com", "10"]]
    # Charts drawn on the server, and the menu leads to the page.
    assert html.count('<svg class="column-chart"') == 6 and 'class="bar-chart"' in html
    assert f'href="/orgs/{shop.organization.id}/dashboard" aria-current="page"' in html


@pytest.mark.english
@pytest.mark.parametrize("query", [
    "period=forever", "period=custom&start=2026-11-10&end=2026-11-01",
    "period=custom&start=yesterday&end=2026-11-01", "period=custom&start=2026-11-01&end=2027-01-01",
    "period=custom&start=2019-01-01&end=2026-11-01", "period=custom&start=2020-01-01&end=2026-11-01",
])
def test_a_period_that_cannot_be_read_is_refused_with_a_message(client, login, sales, query):
    shop, _lamp, _chair = sales
    login(shop.manager)
    page = client.get(f"/orgs/{shop.organization.id}/dashboard?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.get_data(as_text=True)


@pytest.mark.english
@pytest.mark.parametrize(("period", "row", "shown"), [
    ("7d", "2026-11-03", False), ("30d", "2026-11-03", True),
    ("12m", "2026-11-03", False), ("12m", "2026-11-02", True),  # per week only: its Monday
])
def test_the_ready_made_periods(client, login, sales, period, row, shown):
    shop, _lamp, _chair = sales
    login(shop.manager)
    page = client.get(f"/orgs/{shop.organization.id}/dashboard?period={period}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (f'data-day="{row}"' in html) is shown


def test_a_counter_volunteer_does_not_see_the_figures(client, login, sales):
    shop, _lamp, _chair = sales
    login(shop.counter)
    assert client.get(f"/orgs/{shop.organization.id}/dashboard").status_code == 403
