"""Paying an order with gift cards online: cards first, the gateway for the rest (none at all
when the cards cover everything), and the money back on the cards when the order is not paid,
cancelled or refunded."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard
from marketplace.ledger import services as ledger
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import refunds
from marketplace.payments import services as payments
from marketplace.vouchers.models import Voucher
from tests.factories import make_product
from tests.giftcards.helpers import make_card
from tests.payments.fake_stripe import FakeStripe, stripe_settings
from tests.vouchers.helpers import make_shop


@pytest.fixture
def fake():
    return FakeStripe()


@pytest.fixture
def app(make_app, fake):
    app = make_app(**stripe_settings(fake))
    with app.app_context():
        yield app


@pytest.fixture
def shop(app):
    return make_shop()


def balance(card):
    db.session.expire_all()
    return db.session.get(GiftCard, card.id).balance_cents


def order_with_cards(client, shop, product, quantity, codes):
    client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})
    return client.post("/checkout", data={
        "name": "Camille Martin", "email": "camille@example.org", "accept_terms": "y",
        f"slot-{shop.organization.id}": shop.slot.id, "gift_cards": codes})


def test_cards_that_cover_everything_pay_without_any_gateway_call(client, shop, fake):
    lamp = make_product(shop.organization, price_cents=1200, stock=3)
    card = make_card(5000)
    response = order_with_cards(client, shop, lamp, 1, card.display_code.lower())
    assert response.status_code == 303 and "/orders/" in response.location
    assert fake.calls == []  # not a single request to Stripe
    order = db.session.scalar(sa.select(Order))
    assert order.status == OrderStatus.PAID and order.amount_paid_cents == 1200
    assert balance(card) == 3800
    assert db.session.scalar(sa.select(Voucher)) is not None  # the pickup voucher is issued
    assert ledger.balance(shop.organization.id) == 1200 - 60  # the seller is owed the sale


def test_the_gateway_charges_only_what_the_cards_did_not_pay(client, shop, fake):
    lamp = make_product(shop.organization, price_cents=2500, stock=3)
    card = make_card(2000)
    response = order_with_cards(client, shop, lamp, 2, card.code)
    assert response.status_code in (302, 303)
    (session,) = fake.sessions.values()
    assert session["amount_total"] == 5000 - 2000
    assert balance(card) == 0
    fake.pay(session["id"])
    order = payments.fulfil_checkout_session(session["id"])
    assert order.status == OrderStatus.PAID and order.amount_paid_cents == 5000


def test_an_order_not_paid_in_time_gives_the_money_back_to_the_card(client, shop, fake):
    lamp = make_product(shop.organization, price_cents=2500, stock=3)
    card = make_card(2000)
    order_with_cards(client, shop, lamp, 2, card.code)
    order = db.session.scalar(sa.select(Order))
    assert balance(card) == 0
    assert orders.release(order, status=OrderStatus.EXPIRED)
    db.session.commit()
    assert balance(card) == 2000 and cards.ledger_sum(card.id) == 2000
    assert not orders.release(order, status=OrderStatus.EXPIRED)  # twice: nothing more
    assert balance(card) == 2000


def test_a_refund_goes_back_to_the_cards_first_then_to_the_bank_card(client, shop, fake):
    lamp = make_product(shop.organization, price_cents=2500, stock=3)
    card = make_card(2000)
    order_with_cards(client, shop, lamp, 2, card.code)
    (session,) = fake.sessions.values()
    fake.pay(session["id"])
    order = payments.fulfil_checkout_session(session["id"])
    part = order.parts[0]
    refunds.refund_part(part, quantities={part.lines[0].id: 1}, by=shop.manager, reason="Broken")
    assert balance(card) == 2000  # 25 € refunded: 20 € to the card...
    (call,) = fake.calls_to("post", "/v1/refunds")
    assert call.params["amount"] == "500"  # ...and 5 € to the bank card
    refunds.refund_part(part, quantities=None, by=shop.manager, reason="Out of stock")
    assert balance(card) == 2000
    assert fake.calls_to("post", "/v1/refunds")[-1].params["amount"] == "2500"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.REFUNDED


def test_a_card_only_order_is_refunded_to_the_card(client, shop, fake):
    lamp = make_product(shop.organization, price_cents=1200, stock=3)
    card = make_card(5000)
    order_with_cards(client, shop, lamp, 1, card.code)
    order = db.session.scalar(sa.select(Order))
    refunds.cancel_part(order.parts[0], by=shop.manager, reason="Closed today")
    assert balance(card) == 5000 and fake.calls == []


@pytest.mark.parametrize("codes, message", [
    ("hello", "is not a gift card code"),
    ("K7QM-4XPD-R2ST-8WHN", "not a gift card code"),
])
def test_a_bad_code_at_checkout_is_a_400_and_nothing_is_ordered(client, shop, codes, message):
    lamp = make_product(shop.organization, price_cents=1200, stock=3)
    response = order_with_cards(client, shop, lamp, 1, codes)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Order)) is None


def test_an_unknown_or_blocked_card_is_refused(client, shop, app):
    from marketplace.giftcards import codes as card_codes

    lamp = make_product(shop.organization, price_cents=1200, stock=3)
    unknown = card_codes.display(card_codes.new_code())
    response = order_with_cards(client, shop, lamp, 1, unknown)
    assert response.status_code == 400 and "No gift card has the code" in response.get_data(as_text=True)
    card = make_card(5000)
    admin = __import__("tests.factories", fromlist=["make_user"]).make_user(
        email="admin-block@example.org", is_admin=True)
    cards.block(card.id, reason="lost", by=admin)
    db.session.commit()
    response = order_with_cards(client, shop, lamp, 1, card.code)
    assert response.status_code == 409 and "blocked" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Order)) is None and balance(card) == 5000


def test_the_whole_story_balance_reads_18_euros_everywhere(client, shop, login, app):
    """50 € card; 20 € at a counter; 12 € online; 18 € left on the card page and in admin."""
    card = make_card(5000)
    cards.redeem(card.id, 2000, organization=shop.organization, by=shop.counter)
    db.session.commit()
    soap = make_product(shop.organization, title="Savon", price_cents=1200, stock=3)
    order_with_cards(client, shop, soap, 1, card.code)
    assert balance(card) == 1800
    page = client.get(f"/cards/{card.code}").get_data(as_text=True)
    assert "Balance: €18.00" in page
    assert cards.ledger_sum(card.id) == 1800


def test_codes_typed_at_checkout_count_as_gift_card_lookups(make_app):
    """The checkout answers whether a code is a card: wrong ones use up the same budget as the
    balance page, and a right one is still accepted once it is used up."""
    from marketplace.giftcards import codes

    app = make_app(RATELIMIT_ENABLED=True, GIFTCARD_LOOKUP_LIMIT="3 per hour")
    with app.app_context():
        shop = make_shop()
        lamp = make_product(shop.organization, price_cents=1200, stock=5)
        card = make_card(5000)
        client = app.test_client()
        client.post("/cart/add", data={"product_id": lamp.id, "quantity": 1})

        def checkout(typed):
            return client.post("/checkout", data={
                "name": "Camille Martin", "email": "camille@example.org", "accept_terms": "y",
                f"slot-{shop.organization.id}": shop.slot.id, "gift_cards": typed})

        for _ in range(3):
            response = checkout(codes.new_code())
            assert response.status_code == 400
            assert "No gift card has the code" in response.get_data(as_text=True)
        refused = checkout(codes.new_code())
        assert refused.status_code == 429
        assert "Too many wrong codes" in refused.get_data(as_text=True)
        paid = checkout(card.display_code)
        assert paid.status_code == 303 and balance(card) == 3800
