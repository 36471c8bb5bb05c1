"""The withdrawal right: 14 days from the day after collection, never for perishable goods."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import g

from marketplace.db import db, utcnow
from marketplace.orders.models import OrderStatus
from marketplace.orders.status import transition
from marketplace.orders.withdrawal import (
    WithdrawalError,
    request_withdrawal,
    withdrawable_lines,
    withdrawal_deadline,
)
from tests.factories import make_session_key
from tests.orders.helpers import make_cart, make_slot, place_order
from tests.orders.test_staff_orders import pay

pytestmark = pytest.mark.english

# Monday 2 March 2026, 11:00 in Paris. Fourteen days later is Monday 16 March, a working day.
COLLECTED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def seller(make_organization):
    organization = make_organization(name="Ressourcerie du Rhône")
    organization.contact_email = "contact@ressourcerie.example"
    return organization


@pytest.fixture
def goods(seller, make_product):
    lamp = make_product(seller, title="Lampe de bureau", price_cents=1500, stock=10)
    bread = make_product(seller, title="Pain au levain", price_cents=450, stock=10,
                         category_slug="food", is_perishable=True)
    return lamp, bread


@pytest.fixture
def order(app, seller, goods):
    lamp, bread = goods
    placed = place_order(make_cart((lamp, 2), (bread, 1)), {seller: make_slot(seller)},
                         email="ada@example.org")
    placed.locale = "en"
    pay(placed)
    return placed


def collect(order, at=COLLECTED):
    """Collection comes with the voucher issue: here the part is simply marked collected."""
    for part in order.parts:
        part.collected_at = at
        transition(part, OrderStatus.COLLECTED)
    db.session.flush()


def lines_of(order):
    lamp_line, bread_line = order.parts[0].lines
    return lamp_line, bread_line


# --- the period ------------------------------------------------------------------------------


def test_the_period_is_fourteen_days_from_the_day_after_collection(app):
    assert withdrawal_deadline(COLLECTED) == date(2026, 3, 16)
    # 23:30 UTC on 2 March is already 3 March in Paris: the local day counts.
    assert withdrawal_deadline(datetime(2026, 3, 2, 23, 30, tzinfo=UTC)) == date(2026, 3, 17)


def test_a_period_ending_on_a_weekend_or_a_holiday_runs_to_the_next_working_day(app):
    # Saturday 7 March + 14 = Saturday 21 March: runs to Monday 23 March.
    assert withdrawal_deadline(datetime(2026, 3, 7, 10, tzinfo=UTC)) == date(2026, 3, 23)
    # Friday 24 April + 14 = Friday 8 May (Victory in Europe Day): Monday 11 May.
    assert withdrawal_deadline(datetime(2026, 4, 24, 10, tzinfo=UTC)) == date(2026, 5, 11)


# --- the request -----------------------------------------------------------------------------


def test_withdrawal_on_the_last_day_refunds_the_lines(app, order, goods, outbox):
    lamp, _ = goods
    collect(order)
    lamp_line, _ = lines_of(order)
    part = order.parts[0]

    refunds = request_withdrawal(
        order, lines={lamp_line.id: 1}, reason="Trop grande pour mon bureau",
        now=datetime(2026, 3, 16, 21, 30, tzinfo=UTC),  # 22:30 in Paris, the 14th day
    )
    db.session.commit()

    assert len(refunds) == 1
    assert lamp_line.refunded_quantity == 1
    assert part.refunded_cents == 1500
    assert part.status == OrderStatus.PARTIALLY_REFUNDED
    # Still at the shopper's: back in stock only when the seller receives it.
    assert lamp.stock == 10 - 2
    recipients = {address for mail in outbox for address in mail.to}
    assert {"contact@ressourcerie.example", "ada@example.org"} <= recipients
    to_seller = next(m for m in outbox if m.to == ["contact@ressourcerie.example"])
    assert "Lampe de bureau" in to_seller.body and "Trop grande pour mon bureau" in to_seller.body
    assert f"/orders/{part.id}" in to_seller.body
    to_shopper = next(m for m in outbox if m.subject.startswith("Your return on order"))
    assert "€15.00" in to_shopper.body and "1 rue de la Paix" in to_shopper.body


def test_day_fifteen_is_too_late(app, order):
    collect(order)
    lamp_line, _ = lines_of(order)

    with pytest.raises(WithdrawalError, match="ended on"):
        request_withdrawal(order, lines={lamp_line.id: 1}, reason="",
                           now=datetime(2026, 3, 17, 8, 0, tzinfo=UTC))
    assert lamp_line.refunded_quantity == 0


def test_perishable_goods_cannot_be_returned(app, order):
    collect(order)
    lamp_line, bread_line = lines_of(order)

    with pytest.raises(WithdrawalError, match="perishable"):
        request_withdrawal(order, lines={lamp_line.id: 1, bread_line.id: 1}, reason="",
                           now=COLLECTED + timedelta(days=1))
    assert lamp_line.refunded_quantity == 0  # nothing of the request went through


def test_goods_not_collected_yet_cannot_be_withdrawn(app, order):
    lamp_line, _ = lines_of(order)

    with pytest.raises(WithdrawalError, match="not been collected"):
        request_withdrawal(order, lines={lamp_line.id: 1}, reason="")
    assert order.parts[0].status == OrderStatus.PAID


def test_no_more_than_what_is_left_and_only_this_orders_lines(app, order, seller, goods):
    collect(order)
    lamp_line, _ = lines_of(order)
    soon = COLLECTED + timedelta(days=2)

    with pytest.raises(WithdrawalError, match="between 1 and 2"):
        request_withdrawal(order, lines={lamp_line.id: 3}, reason="", now=soon)
    with pytest.raises(WithdrawalError, match="at least one"):
        request_withdrawal(order, lines={lamp_line.id: 0}, reason="", now=soon)
    lamp, _ = goods
    other = place_order(make_cart((lamp, 1)), {seller: make_slot(seller, days_ahead=4)})
    with pytest.raises(WithdrawalError, match="not part of your order"):
        request_withdrawal(order, lines={other.parts[0].lines[0].id: 1}, reason="", now=soon)

    request_withdrawal(order, lines={lamp_line.id: 2}, reason="", now=soon)
    with pytest.raises(WithdrawalError, match="already refunded"):
        request_withdrawal(order, lines={lamp_line.id: 1}, reason="", now=soon)


def test_the_form_lists_what_can_be_returned_and_why_not(app, order):
    collect(order)
    views = withdrawable_lines(order, now=COLLECTED + timedelta(days=3))
    lamp, bread = views
    assert lamp.eligible and lamp.remaining == 2 and lamp.deadline == date(2026, 3, 16)
    assert not bread.eligible and "perishable" in str(bread.problem)


# --- the page --------------------------------------------------------------------------------


def _key(order):
    from marketplace.orders.links import order_key

    return order_key(order)


def test_a_guest_returns_items_with_the_link_from_the_email(app, client, order):
    collect(order, at=utcnow() - timedelta(days=2))
    lamp_line, bread_line = lines_of(order)
    db.session.commit()
    url = f"/orders/{order.reference}/withdrawal"

    assert client.get(url).status_code == 404  # no key, no session
    assert client.get(url, query_string={"key": "forged"}).status_code == 404
    page = client.get(url, query_string={"key": _key(order)}).get_data(as_text=True)
    assert f'name="line_{lamp_line.id}"' in page and f'name="line_{bread_line.id}"' not in page
    assert "is perishable" in page

    response = client.post(url, query_string={"key": _key(order)},
                           data={f"line_{lamp_line.id}": "1", "reason": ""})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/orders/{order.reference}?key=")
    db.session.expire_all()
    assert lamp_line.refunded_quantity == 1


def test_a_refused_withdrawal_shows_why(app, client, order):
    collect(order, at=utcnow() - timedelta(days=20))
    lamp_line, _ = lines_of(order)
    db.session.commit()

    response = client.post(f"/orders/{order.reference}/withdrawal",
                           query_string={"key": _key(order)}, data={f"line_{lamp_line.id}": "1"})

    assert response.status_code == 409
    assert "The withdrawal period for “Lampe de bureau” ended on" in response.get_data(as_text=True)
    db.session.expire_all()
    assert lamp_line.refunded_quantity == 0


def test_only_the_orders_account_holder_sees_the_page_without_a_key(
    app, client, seller, goods, make_user
):
    lamp, _ = goods
    ada, eve = make_user(email="ada@example.org"), make_user(email="eve@example.org")
    order = place_order(make_cart((lamp, 1)), {seller: make_slot(seller)})
    order.user_id = ada.id
    pay(order)
    collect(order, at=utcnow() - timedelta(days=1))
    db.session.commit()
    url = f"/orders/{order.reference}/withdrawal"

    for user, status in ((eve, 404), (ada, 200)):
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = make_session_key(user)
        assert client.get(url).status_code == status
