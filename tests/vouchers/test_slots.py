"""Who comes in a slot (page, printable, CSV), and the no-shows marked after it ends."""
import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from marketplace.audit.models import AuditEntry
from marketplace.catalog.models import StockMovement, StockReason
from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import refunds
from tests.factories import make_product
from tests.payments.helpers import place_order, reload, stock_of
from tests.vouchers.helpers import make_shop, nonce_of, paid_order, ticket_of, voucher_of


@pytest.fixture
def shop(app):
    return make_shop("Ressourcerie du Canal")


@pytest.fixture
def lamp(shop):
    return make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=5)


def slot_url(shop, suffix=""):
    return f"/orgs/{shop.organization.id}/slots/{shop.slot.id}{suffix}"


def after_the_slot(shop):
    return freeze_time(shop.slot.ends_at + timedelta(minutes=5))


def test_the_slot_page_lists_paid_orders_with_names_items_and_status(client, login, shop, lamp):
    paid = paid_order([(lamp, 2)], email="ada@example.org")
    unpaid = place_order([(lamp, 1)], email="bob@example.org")
    login(shop.counter)
    html = client.get(slot_url(shop)).get_data(as_text=True)
    assert paid.reference in html and "2 × Lampe de bureau" in html and "Paid" in html
    # Counter staff see which voucher it is, not a code they could collect it with.
    voucher = voucher_of(paid.parts[0])
    assert f"••••\u2011{voucher.code[4:]}" in html
    assert voucher.code not in html and voucher.display_code not in html
    assert unpaid.reference not in html  # not paid: nobody comes for it
    assert "Printable list" in html and "orders.csv" in html
    assert "Mark the no-shows" not in html  # counter staff do not change stock

    listing = client.get(f"/orgs/{shop.organization.id}/slots").get_data(as_text=True)
    assert slot_url(shop) in listing


def test_the_printable_list_has_a_box_to_tick_per_order(client, login, shop, lamp):
    paid_order([(lamp, 1)])
    login(shop.counter)
    html = client.get(slot_url(shop), query_string={"print": "1"}).get_data(as_text=True)
    assert "☐" in html and "Handed over" in html


def test_the_csv_has_one_row_per_order_and_defuses_formulas(client, login, shop, lamp):
    order = paid_order([(lamp, 2)])
    order.name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    login(shop.counter)
    response = client.get(slot_url(shop, "/orders.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0] == ["Order", "Name", "Phone", "Status", "Voucher", "Items", "Collected on"]
    assert len(rows) == 2
    reference, name, _phone, status, voucher, items, collected = rows[1]
    assert reference == order.reference and name.startswith("'=")
    assert status == "Paid" and voucher == f"••••\u2011{voucher_of(order.parts[0]).code[4:]}"
    assert items == "2 × Lampe de bureau" and collected == ""


def test_another_sellers_slot_is_404(client, login, shop, lamp):
    other = make_shop("Épicerie Solidaire")
    login(other.manager)
    assert client.get(f"/orgs/{other.organization.id}/slots/{shop.slot.id}").status_code == 404
    assert client.get(f"/orgs/{other.organization.id}/slots/{shop.slot.id}/orders.csv").status_code == 404
    assert client.post(f"/orgs/{other.organization.id}/slots/{shop.slot.id}/no-shows").status_code == 404


def test_no_shows_cannot_be_marked_before_the_slot_ends(client, login, shop, lamp):
    order = paid_order([(lamp, 1)])
    login(shop.manager)
    response = client.post(slot_url(shop, "/no-shows"), follow_redirects=True)
    assert "has not ended yet" in response.get_data(as_text=True)
    assert reload(order.parts[0]).status == OrderStatus.PAID


def test_counter_staff_cannot_mark_no_shows(client, login, shop, lamp):
    paid_order([(lamp, 1)])
    login(shop.counter)
    with after_the_slot(shop):
        assert client.post(slot_url(shop, "/no-shows")).status_code == 403


def test_no_shows_put_the_goods_back_on_sale_and_are_audited(client, login, shop, lamp):
    absent = paid_order([(lamp, 2)], email="absent@example.org")
    came = paid_order([(lamp, 1)], email="came@example.org")
    assert stock_of(lamp) == 2
    login(shop.counter)
    voucher = voucher_of(came.parts[0])
    html = client.get(f"/orgs/{shop.organization.id}/counter/scan",
                      query_string={"q": voucher.code}).get_data(as_text=True)
    client.post(f"/orgs/{shop.organization.id}/counter/collect",
                data={"nonce": nonce_of(html), "ticket": ticket_of(html), "line": [str(came.parts[0].lines[0].id)]})

    login(shop.manager)
    with after_the_slot(shop):
        response = client.post(slot_url(shop, "/no-shows"), follow_redirects=True)
    assert "1 order marked as not collected" in response.get_data(as_text=True)
    part = reload(absent.parts[0])
    assert part.status == OrderStatus.NO_SHOW and part.no_show_restocked_at is not None
    assert reload(came.parts[0]).status == OrderStatus.COLLECTED
    assert stock_of(lamp) == 4
    movement = db.session.scalar(sa.select(StockMovement).where(
        StockMovement.reason == StockReason.NO_SHOW))
    assert movement.delta == 2 and movement.reference == absent.reference
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "voucher.no_show"))
    assert entry.actor_id == shop.manager.id and entry.data["restocked"] is True

    # Marking again changes nothing; the goods are on sale, so the counter refuses the voucher,
    # and a refund does not put them back a second time.
    with after_the_slot(shop):
        client.post(slot_url(shop, "/no-shows"))
    assert stock_of(lamp) == 4
    login(shop.counter)
    refused = client.get(f"/orgs/{shop.organization.id}/counter/scan",
                         query_string={"q": voucher_of(part).code})
    assert refused.status_code == 409 and "went back on sale" in refused.get_data(as_text=True)
    refunds.refund_part(reload(part), quantities=None, by=shop.manager, reason="No-show")
    db.session.commit()
    assert reload(part).status == OrderStatus.REFUNDED and stock_of(lamp) == 4


def test_a_shopper_who_took_some_lines_is_not_a_no_show(client, login, shop, lamp):
    chair = make_product(shop.organization, title="Chaise", stock=5)
    order = paid_order([(lamp, 1), (chair, 1)])
    part = order.parts[0]
    login(shop.counter)
    voucher = voucher_of(part)
    html = client.get(f"/orgs/{shop.organization.id}/counter/scan",
                      query_string={"q": voucher.code}).get_data(as_text=True)
    lamp_line = next(line.id for line in part.lines if line.title == "Lampe de bureau")
    client.post(f"/orgs/{shop.organization.id}/counter/collect",
                data={"nonce": nonce_of(html), "ticket": ticket_of(html), "line": [str(lamp_line)]})
    assert reload(part).status == OrderStatus.PAID  # the chair is still to collect

    login(shop.manager)
    with after_the_slot(shop):
        response = client.post(slot_url(shop, "/no-shows"), follow_redirects=True)
    assert response.status_code == 200
    assert reload(part).status == OrderStatus.PAID and stock_of(chair) == 4


def test_when_the_seller_keeps_the_goods_aside_the_shopper_can_still_collect(
        client, login, shop, lamp):
    shop.organization.restock_no_shows = False
    db.session.commit()
    order = paid_order([(lamp, 2)])
    login(shop.manager)
    with after_the_slot(shop):
        client.post(slot_url(shop, "/no-shows"))
    part = reload(order.parts[0])
    assert part.status == OrderStatus.NO_SHOW and part.no_show_restocked_at is None
    assert stock_of(lamp) == 3
    voucher = voucher_of(part)
    login(shop.counter)
    html = client.get(f"/orgs/{shop.organization.id}/counter/scan",
                      query_string={"q": voucher.code}).get_data(as_text=True)
    client.post(f"/orgs/{shop.organization.id}/counter/collect",
                data={"nonce": nonce_of(html), "ticket": ticket_of(html), "line": [str(part.lines[0].id)]})
    assert reload(part).status == OrderStatus.COLLECTED


def test_the_setting_is_on_the_edit_page(client, login, shop):
    login(shop.manager)
    html = client.get(f"/orgs/{shop.organization.id}/edit").get_data(as_text=True)
    assert 'name="restock_no_shows"' in html
