"""The seller's order pages: only its own parts, filters, who may refund and cancel."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g

from marketplace.catalog.models import StockReason
from marketplace.catalog.services import stock_movements
from marketplace.db import db
from marketplace.orders import services as orders
from marketplace.orders.models import OrderStatus
from marketplace.organizations.models import OrganizationKind, Role
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.payments.models import DemoCheckoutSession, Refund, RefundStatus
from tests.factories import make_session_key
from tests.orders.helpers import make_cart, make_slot, place_order

pytestmark = pytest.mark.english


def pay(order) -> None:
    """The shopper pays on the demo gateway's page (the same fulfilment as Stripe's)."""
    checkout_session = payments.start_payment(order)
    DemoGateway().complete(checkout_session.id)
    payments.fulfil_checkout_session(checkout_session.id)  # commits


@pytest.fixture
def staff(make_user):
    return {role: make_user(name=f"{role.value.title()} Dupont") for role in Role}


@pytest.fixture
def seller(make_organization, staff):
    return make_organization(name="Ressourcerie du Rhône", members=dict(staff))


@pytest.fixture
def login_as(client, staff):
    def do_login(role_or_user):
        user = staff[role_or_user] if isinstance(role_or_user, Role) else role_or_user
        key = make_session_key(user)
        db.session.commit()  # what the test built is saved, as if made by earlier requests
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = key
            session["_fresh"] = True
        return user

    return do_login


@pytest.fixture
def shop(seller, make_product):
    lamp = make_product(seller, title="Lampe de bureau", price_cents=1500, stock=10)
    chair = make_product(seller, title="Chaise paillée", price_cents=4000, stock=5)
    return lamp, chair, make_slot(seller, days_ahead=3)


def paid_order(items, slots, *, name="Ada Lovelace", email="ada@example.org", phone=""):
    order = place_order(make_cart(*items), slots, name=name, email=email)
    order.phone = phone
    pay(order)
    return order


def part_of(order, organization):
    return next(p for p in order.parts if p.organization_id == organization.id)


# --- the list --------------------------------------------------------------------------------


def test_list_shows_this_sellers_paid_parts_only(
    client, login_as, seller, shop, make_organization, make_product
):
    lamp, chair, slot = shop
    other = make_organization(name="Épicerie solidaire")
    jam = make_product(other, title="Confiture de mûres", price_cents=650, stock=10)
    other_slot = make_slot(other)
    both = paid_order([(lamp, 2), (chair, 1), (jam, 1)], {seller: slot, other: other_slot},
                      name="Grace Hopper")
    theirs = paid_order([(jam, 2)], {other: other_slot}, name="Hedy Lamarr")
    unpaid = place_order(make_cart((lamp, 1)), {seller: slot}, name="Alan Turing")
    login_as(Role.COUNTER)

    page = client.get(f"/orgs/{seller.id}/orders").get_data(as_text=True)

    assert both.reference in page and "Grace Hopper" in page
    assert "70.00" in page  # our part only: 2 × 15 + 40, not the jam
    assert ">3<" in page  # items
    assert "Paid" in page
    assert theirs.reference not in page and "Hedy Lamarr" not in page
    assert unpaid.reference not in page  # waiting for payment: not shown by default
    assert "1 order" in page


def test_list_filters_by_status_slot_and_search(
    client, login_as, seller, shop, make_product
):
    lamp, chair, slot = shop
    later = make_slot(seller, days_ahead=5)
    first = paid_order([(lamp, 1)], {seller: slot}, name="Ada Lovelace")
    second = paid_order([(chair, 1)], {seller: later}, name="Grace Hopper")
    unpaid = place_order(make_cart((lamp, 1)), {seller: slot}, name="Alan Turing")
    login_as(Role.COUNTER)
    url = f"/orgs/{seller.id}/orders"

    default = client.get(url).get_data(as_text=True)
    assert default.index(second.reference) < default.index(first.reference)  # latest slot first

    by_slot = client.get(url, query_string={"slot": later.id}).get_data(as_text=True)
    assert second.reference in by_slot and first.reference not in by_slot

    waiting = client.get(url, query_string={"status": "pending_payment"}).get_data(as_text=True)
    assert unpaid.reference in waiting and first.reference not in waiting
    everything = client.get(url, query_string={"status": "all"}).get_data(as_text=True)
    assert all(o.reference in everything for o in (first, second, unpaid))

    by_name = client.get(url, query_string={"q": "hopper"}).get_data(as_text=True)
    assert second.reference in by_name and first.reference not in by_name
    by_reference = client.get(url, query_string={"q": first.reference.lower()}).get_data(as_text=True)
    assert first.reference in by_reference and second.reference not in by_reference
    nothing = client.get(url, query_string={"q": "100%_"}).get_data(as_text=True)
    assert "No order matches these filters." in nothing

    # Nonsense in the query string is ignored, never a 500.
    for odd in ({"status": "bogus", "slot": "x", "page": "-3"},
                {"slot": "9" * 30, "page": "9" * 30}, {"slot": "\u0663"}):
        assert client.get(url, query_string=odd).status_code == 200


def test_another_organizations_part_is_a_404(
    client, login_as, seller, make_organization, make_product
):
    other = make_organization(name="Épicerie solidaire")
    jam = make_product(other, title="Confiture de mûres", price_cents=650, stock=10)
    theirs = part_of(paid_order([(jam, 1)], {other: make_slot(other)}), other)
    login_as(Role.OWNER)
    base = f"/orgs/{seller.id}/orders/{theirs.id}"

    assert client.get(base).status_code == 404
    assert client.post(f"{base}/cancel", data={"reason": "Oops"}).status_code == 404
    assert client.post(f"{base}/refund", data={"refund-reason": "Oops"}).status_code == 404
    db.session.expire_all()
    assert theirs.status == OrderStatus.PAID and theirs.refunded_cents == 0


# --- the detail ------------------------------------------------------------------------------


def test_counter_staff_see_the_detail_but_cannot_refund_or_cancel(
    client, login_as, seller, shop
):
    lamp, chair, slot = shop
    order = paid_order([(lamp, 2)], {seller: slot}, email="grace@example.org",
                       phone="06 12 34 56 78")
    part = part_of(order, seller)
    login_as(Role.COUNTER)
    url = f"/orgs/{seller.id}/orders/{part.id}"

    page = client.get(url).get_data(as_text=True)

    assert "Ada Lovelace" in page and "grace@example.org" in page and "06 12 34 56 78" in page
    assert "Boutique" in page  # the pickup location
    assert "Lampe de bureau" in page
    assert f"Payment received for order {order.reference}" in page  # history
    assert "Refund these items" not in page and f"{url}/cancel" not in page
    line = part.lines[0]
    assert client.post(f"{url}/cancel", data={"reason": "No"}).status_code == 403
    refund = client.post(f"{url}/refund", data={f"refund-line_{line.id}": "1", "refund-reason": "No"})
    assert refund.status_code == 403
    db.session.expire_all()
    assert part.status == OrderStatus.PAID and line.refunded_quantity == 0


def test_the_detail_shows_what_the_seller_is_owed(client, login_as, seller, shop):
    lamp, chair, slot = shop
    part = part_of(paid_order([(chair, 1)], {seller: slot}), seller)
    login_as(Role.MANAGER)

    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)

    # 5 % platform commission by default: 2.00 of 40.00, 38.00 for the seller.
    assert part.commission_cents == 200 and part.seller_amount_cents == 3800
    assert "€2.00" in page and "€38.00" in page and "5%" in page


def test_manager_refunds_one_line_partly(client, login_as, seller, shop, outbox):
    lamp, chair, slot = shop
    order = paid_order([(lamp, 3), (chair, 1)], {seller: slot})
    part = part_of(order, seller)
    lamp_line, chair_line = part.lines
    login_as(Role.MANAGER)
    url = f"/orgs/{seller.id}/orders/{part.id}"

    form = client.get(url).get_data(as_text=True)
    assert "Refund these items" in form and f'name="refund-line_{lamp_line.id}"' in form
    response = client.post(f"{url}/refund", data={
        f"refund-line_{lamp_line.id}": "1", f"refund-line_{chair_line.id}": "0",
        "refund-reason": "One lamp arrived broken",
    })

    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    db.session.expire_all()
    assert (lamp_line.refunded_quantity, chair_line.refunded_quantity) == (1, 0)
    assert part.refunded_cents == 1500
    assert part.status == OrderStatus.PARTIALLY_REFUNDED
    assert lamp.stock == 10 - 3 + 1  # not collected yet: the refunded lamp is for sale again
    assert stock_movements(lamp)[0].reason == StockReason.CANCELLATION
    page = client.get(url).get_data(as_text=True)
    assert "€15.00 was refunded to the shopper" in page
    # The history says it in a sentence: who, how much, on which order, and why.
    assert (f"At Ressourcerie du Rhône, Manager Dupont refunded €15.00 on order {order.reference}"
            in page)
    assert "Reason: One lamp arrived broken" in page


def test_manager_cancels_a_part_and_it_is_refunded(client, login_as, seller, shop):
    lamp, chair, slot = shop
    part = part_of(paid_order([(lamp, 2)], {seller: slot}), seller)
    login_as(Role.MANAGER)
    url = f"/orgs/{seller.id}/orders/{part.id}"

    response = client.post(f"{url}/cancel", data={"reason": "The shop is closed for a flood"})

    assert response.status_code == 302
    db.session.expire_all()
    assert part.status == OrderStatus.REFUNDED
    assert part.refunded_cents == part.subtotal_cents == 3000
    assert [line.refunded_quantity for line in part.lines] == [2]
    page = client.get(url).get_data(as_text=True)
    assert "was cancelled and the shopper refunded" in page
    assert "Refund these items" not in page  # nothing left to refund


def test_the_history_never_shows_another_sellers_refund(
    client, login_as, seller, shop, make_organization, make_product, make_user
):
    lamp, chair, slot = shop
    other_owner = make_user()
    other = make_organization(name="Épicerie solidaire", owner=other_owner)
    jam = make_product(other, title="Confiture de mûres", price_cents=650, stock=10)
    order = paid_order([(lamp, 1), (jam, 2)], {seller: slot, other: make_slot(other)})
    ours, theirs = part_of(order, seller), part_of(order, other)
    login_as(other_owner)
    client.post(f"/orgs/{other.id}/orders/{theirs.id}/refund", data={
        f"refund-line_{theirs.lines[0].id}": "1", "refund-reason": "Pot fêlé",
    })
    assert "Pot fêlé" in client.get(f"/orgs/{other.id}/orders/{theirs.id}").get_data(as_text=True)

    login_as(Role.COUNTER)
    page = client.get(f"/orgs/{seller.id}/orders/{ours.id}").get_data(as_text=True)

    assert f"Payment received for order {order.reference}" in page
    assert "€28.00" not in page  # the whole order's amount is not this seller's business
    assert "Pot fêlé" not in page and "Confiture" not in page and "€6.50" not in page


def test_cancel_needs_a_reason_and_refund_needs_a_quantity(
    client, login_as, seller, shop
):
    lamp, chair, slot = shop
    part = part_of(paid_order([(lamp, 2)], {seller: slot}), seller)
    (line,) = part.lines
    login_as(Role.OWNER)
    url = f"/orgs/{seller.id}/orders/{part.id}"

    no_reason = client.post(f"{url}/cancel", data={"reason": "  "})
    nothing = client.post(f"{url}/refund", data={f"refund-line_{line.id}": "0", "refund-reason": "x"})
    too_many = client.post(f"{url}/refund", data={f"refund-line_{line.id}": "3", "refund-reason": "x"})

    assert no_reason.status_code == 400 and "Say why, in a few words." in no_reason.get_data(as_text=True)
    assert nothing.status_code == 400
    assert "Choose how many of at least one item to refund." in nothing.get_data(as_text=True)
    assert too_many.status_code == 400 and "between 0 and 2" in too_many.get_data(as_text=True)
    db.session.expire_all()
    assert part.status == OrderStatus.PAID and line.refunded_quantity == 0


def test_a_refusal_from_the_gateway_is_shown_and_changes_nothing(
    client, login_as, seller, shop
):
    lamp, chair, slot = shop
    order = paid_order([(lamp, 2)], {seller: slot})
    part = part_of(order, seller)
    (line,) = part.lines
    # The money already went back from the gateway's side: the demo gateway refuses.
    demo = db.session.scalar(sa.select(DemoCheckoutSession).where(DemoCheckoutSession.order_id == order.id))
    demo.amount_refunded_cents = demo.amount_cents
    login_as(Role.MANAGER)

    response = client.post(f"/orgs/{seller.id}/orders/{part.id}/refund", data={
        f"refund-line_{line.id}": "1", "refund-reason": "Broken",
    })

    assert response.status_code == 502
    assert "The payment provider refused the refund" in response.get_data(as_text=True)
    db.session.expire_all()
    assert part.refunded_cents == 0 and line.refunded_quantity == 0
    assert part.status == OrderStatus.PAID
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.status == RefundStatus.FAILED
    history = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)
    assert f"Refund of €15.00 on order {order.reference} refused by the payment provider" in history


def test_sellers_staff_menu_has_the_orders_for_everyone(
    client, login_as, seller, make_organization, make_user
):
    login_as(Role.COUNTER)
    dashboard = client.get(f"/orgs/{seller.id}/").get_data(as_text=True)
    assert f'href="/orgs/{seller.id}/orders"' in dashboard

    council_owner = make_user()
    council = make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=council_owner)
    login_as(council_owner)
    assert f"/orgs/{council.id}/orders" not in client.get(f"/orgs/{council.id}/").get_data(as_text=True)


def test_an_unpaid_part_shows_no_refund_form(client, login_as, seller, shop):
    lamp, chair, slot = shop
    order = place_order(make_cart((lamp, 1)), {seller: slot})
    orders.release(order, status=OrderStatus.CANCELLED, reason="test")
    part = part_of(order, seller)
    login_as(Role.OWNER)

    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)

    assert "Cancelled" in page and "Known once the order is paid." in page
    assert "Refund these items" not in page


def test_every_post_form_carries_its_csrf_token(make_app, seller, shop, staff):
    import re

    from marketplace.orders.links import order_key
    from marketplace.orders.status import transition

    lamp, chair, slot = shop
    order = paid_order([(lamp, 2)], {seller: slot})
    part = part_of(order, seller)
    shopper_page = f"/orders/{order.reference}/withdrawal?key={order_key(order)}"
    part_page = f"/orgs/{seller.id}/orders/{part.id}"
    (line,) = part.lines
    key = make_session_key(staff[Role.MANAGER])
    db.session.commit()
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    with client.session_transaction() as session:
        session["_user_id"] = key

    page = client.get(part_page).get_data(as_text=True)
    forms = re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.S)
    assert len(forms) >= 3  # refund, cancel, language
    assert all(re.search(r'name="[\w-]*csrf_token"', form) for form in forms)

    data = {f"refund-line_{line.id}": "1", "refund-reason": "Broken"}
    assert client.post(f"{part_page}/refund", data=data).status_code == 400
    token = re.search(r'name="refund-csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(f"{part_page}/refund", data={**data, "refund-csrf_token": token})
    assert response.status_code == 302

    part = db.session.get(type(part), part.id)
    part.collected_at = part.order.paid_at
    transition(part, OrderStatus.COLLECTED)
    db.session.commit()
    page = client.get(shopper_page).get_data(as_text=True)
    (form,) = [f for f in re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.S)
               if re.search(r'action="[^"]*/withdrawal', f)]
    assert re.search(r'name="csrf_token"', form)
    assert client.post(shopper_page, data={f"line_{line.id}": "1"}).status_code == 400
