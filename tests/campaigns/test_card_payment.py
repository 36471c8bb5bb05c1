"""A campaign's pro-forma paid through the gateway: by card (the demo page without a Stripe key,
Stripe Checkout with one), or by bank transfer to a virtual IBAN at Stripe, the money matched by
Stripe and announced by the async webhooks. The campaign is paid once, by the orders' signal;
an order that expires or fails leaves it payable; money that comes when the campaign no longer
takes it goes back."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.audit.models import AuditEntry
from marketplace.campaigns import card_payment, payment_methods, services
from marketplace.campaigns.models import Campaign, CampaignPayment, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.db import db, utcnow
from marketplace.giftcards.models import GiftCard
from marketplace.invoicing import services as invoicing
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.signals import order_paid
from marketplace.organizations.models import Organization
from marketplace.payments import services as payments
from marketplace.payments.models import Refund
from tests.payments.fake_stripe import FakeStripe, event, signed, stripe_settings

WEBHOOK = "/payments/stripe/webhook"
PEOPLE = [
    {"last_name": "Martin", "first_name": "Léa", "email": "lea@example.org",
     "employee_number": "M1", "children": 0, "amount_cents": 5000, "line": 2},
    {"last_name": "Durand", "first_name": "Hugo", "email": "hugo@example.org",
     "employee_number": "M2", "children": 0, "amount_cents": 5000, "line": 3},
]


@pytest.fixture
def app(make_app, request):
    """The demo gateway, or Stripe (FakeStripe behind the real SDK) for a test that asks for
    `fake_stripe`."""
    settings = {}
    if "fake_stripe" in request.fixturenames:
        settings = stripe_settings(request.getfixturevalue("fake_stripe"))
    app = make_app(**settings)
    with app.app_context():
        yield app


@pytest.fixture
def fake_stripe() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def quoted(make_campaign, officer):
    """A quoted campaign of two 50 € cards and its pro-forma (2 cards and a 10 € fee)."""
    campaign = make_campaign(name="Noël 2026")
    services.replace_beneficiaries(campaign, PEOPLE, by=officer, filename="liste.csv")
    services.mark_quoted(campaign, by=officer)
    proforma = invoicing.issue_proforma(
        invoicing.Customer(name="CSE Textiles", address="1 rue des Tisserands\n69004 Lyon",
                           siret="55210055400013"),
        [invoicing.voucher_line("Cartes cadeaux Noël 2026", quantity=2, face_value_cents=5000),
         invoicing.service_fee_line("Frais de service", amount_excl_vat_cents=1000)],
        subject=card_payment.subject_of(campaign))
    db.session.commit()
    return campaign, proforma


@pytest.fixture
def paid_orders():
    """The orders the orders domain announced as paid (order_paid), by reference."""
    seen = []

    def receiver(order, **_):
        seen.append(order.reference)

    order_paid.connect(receiver)
    yield seen
    order_paid.disconnect(receiver)


def start(method, campaign, proforma, **kwargs) -> str:
    """Start a payment as the campaign page does: in a request's unit of work."""
    starter = {name: fn for name, _label, fn in payment_methods.available()}[method]
    with uow.unit():
        return starter(campaign, proforma, return_url="http://localhost/campaign", **kwargs)


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def attempts(campaign) -> list[CampaignPayment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(CampaignPayment)
                                   .where(CampaignPayment.campaign_id == campaign.id)
                                   .order_by(CampaignPayment.id)))


def audit_count(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action))


def deliver(client, evt):
    body, headers = signed(evt)
    return client.post(WEBHOOK, data=body, headers=headers)


def session_event(fake, event_type, session_id, **kwargs):
    return event(event_type, dict(fake.sessions[session_id]), **kwargs)


# --- the methods offered -----------------------------------------------------------------------


def offered() -> list[str]:
    return [name for name, _label, _start in payment_methods.available()]


def test_without_stripe_the_card_is_offered_not_the_transfer_through_stripe(app):
    assert "card" in offered() and "stripe_transfer" not in offered()


def test_with_stripe_the_transfer_through_stripe_is_offered_after_the_card(fake_stripe, app):
    names = offered()
    assert names.index("card") < names.index("stripe_transfer")


def test_the_transfer_through_stripe_is_refused_without_stripe(quoted):
    campaign, proforma = quoted
    with pytest.raises(CampaignError):
        card_payment.start_stripe_transfer(campaign, proforma)
    assert attempts(campaign) == []


# --- by card, on the demo gateway's page -------------------------------------------------------


def test_paid_by_card_on_the_demo_page(client, login, quoted, officer, outbox, paid_orders):
    campaign, proforma = quoted
    due = proforma.total_incl_vat_cents
    login(officer)

    url = start("card", campaign, proforma, by=officer)

    page = urlsplit(url).path
    assert page.startswith("/payments/demo/")
    (attempt,) = attempts(campaign)
    order = attempt.order
    assert (attempt.method, attempt.proforma_id) == ("card", proforma.id)
    assert order.status == OrderStatus.PENDING_PAYMENT and order.parts == []
    assert order.total_cents == due and order.user_id == officer.id
    assert order.description == f"Works council campaign “Noël 2026”, pro-forma {proforma.number}"
    assert reload(Campaign, campaign.id).order_id == order.id
    demo_page = client.get(page)
    assert demo_page.status_code == 200 and "Noël 2026" in demo_page.text

    # Left without paying: the order's page says so and offers to pay again.
    back = client.get(client.post(f"{page}/abandon").headers["Location"])
    assert back.status_code == 200 and "Noël 2026" in back.text
    assert "You can pay it until" in back.text and "Its items are kept" not in back.text

    success = client.post(f"{page}/pay")
    assert success.status_code == 302
    shown = client.get(success.headers["Location"])
    assert shown.status_code == 200 and "Thank you, your order is paid" in shown.text
    assert "Noël 2026" in shown.text

    order = reload(Order, order.id)
    campaign = reload(Campaign, campaign.id)
    assert order.status == OrderStatus.PAID and order.amount_paid_cents == due
    # Paid, then its cards issued by the job queued after the payment's commit.
    assert campaign.status == CampaignStatus.ISSUED and campaign.paid_at is not None
    assert campaign.order_id == order.id
    assert paid_orders == [order.reference]
    assert audit_count("campaign.paid_online") == 1
    assert [mail.subject for mail in outbox] == [f"Your order {order.reference} is confirmed"]
    assert "Noël 2026" in outbox[0].body
    # The manager's orders list the campaign's, and its page has nothing to collect.
    assert order.reference in client.get("/account/orders").text
    order_page = client.get(f"/orders/{order.reference}")
    assert order_page.status_code == 200 and "Noël 2026" in order_page.text

    # A reload of the success page changes nothing.
    assert client.get(success.headers["Location"]).status_code == 200
    assert audit_count("campaign.paid_online") == 1 and paid_orders == [order.reference]


def test_an_unpaid_card_order_that_expires_leaves_the_campaign_payable(client, quoted, officer):
    campaign, proforma = quoted
    first = urlsplit(start("card", campaign, proforma, by=officer)).path
    (attempt,) = attempts(campaign)
    db.session.execute(sa.update(Order).where(Order.id == attempt.order_id)
                       .values(hold_expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()

    with uow.unit():
        assert payments.expire_stale_orders() == 1

    assert reload(Order, attempt.order_id).status == OrderStatus.EXPIRED
    assert reload(Campaign, campaign.id).status == CampaignStatus.QUOTED
    assert "already ended" in client.post(f"{first}/pay", follow_redirects=True).text

    second = urlsplit(start("card", reload(Campaign, campaign.id), proforma, by=officer)).path
    assert second != first and len(attempts(campaign)) == 2
    client.post(f"{second}/pay")
    campaign = reload(Campaign, campaign.id)
    assert campaign.status == CampaignStatus.ISSUED  # paid, its cards issued after the commit
    assert campaign.order_id == attempts(campaign)[1].order_id


def test_a_checkout_in_the_shop_leaves_the_campaign_order_alone(quoted, officer):
    """A new cart checkout replaces the shopper's unpaid cart orders, not a campaign's."""
    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)

    (attempt,) = attempts(campaign)
    assert attempt.order.user_id == officer.id
    assert attempt.order.status == OrderStatus.PENDING_PAYMENT
    assert orders.unpaid_orders(user_id=officer.id, guest_references=[]) == []


def test_a_new_attempt_cancels_the_open_one(quoted, officer):
    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)
    start("card", reload(Campaign, campaign.id), proforma, by=officer)

    first, second = attempts(campaign)
    assert first.order.status == OrderStatus.CANCELLED
    assert second.order.status == OrderStatus.PENDING_PAYMENT


def test_a_campaign_paid_otherwise_ends_its_open_card_order(quoted, officer):
    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)

    with uow.unit():  # e.g. the transfer recorded against the pro-forma
        services.mark_paid(reload(Campaign, campaign.id), by=None)

    (attempt,) = attempts(campaign)
    assert attempt.order.status == OrderStatus.CANCELLED


def test_only_the_campaigns_current_proforma_is_paid(quoted, officer):
    campaign, proforma = quoted
    other = invoicing.issue_proforma(
        invoicing.Customer(name="CSE Autre", address="2 rue Neuve\n69001 Lyon"),
        [invoicing.voucher_line("Cartes", quantity=1, face_value_cents=5000)],
        subject="campaign:0")
    with pytest.raises(CampaignError):
        start("card", campaign, other, by=officer)
    services.withdraw_quote(campaign, by=officer)
    db.session.commit()
    with pytest.raises(CampaignError):
        start("card", reload(Campaign, campaign.id), proforma, by=officer)
    assert attempts(campaign) == []


# --- by card, through Stripe Checkout ----------------------------------------------------------


def test_the_stripe_session_has_one_line_the_campaign(fake_stripe, quoted, officer):
    campaign, proforma = quoted

    url = start("card", campaign, proforma, by=officer)

    (call,) = fake_stripe.calls_to("post", "/v1/checkout/sessions")
    (attempt,) = attempts(campaign)
    assert url == f"https://checkout.stripe.com/c/pay/{attempt.order.checkout_session_id}"
    assert call.params["line_items"] == [{"quantity": "1", "price_data": {
        "currency": "eur", "unit_amount": str(proforma.total_incl_vat_cents),
        "product_data": {"name": attempt.order.description}}}]
    assert call.params["customer_email"] == officer.email
    assert "payment_method_types" not in call.params and "customer" not in call.params
    assert call.params["metadata"] == {"order_id": str(attempt.order_id),
                                       "reference": attempt.order.reference}


def test_money_for_a_campaign_paid_meanwhile_goes_back(client, fake_stripe, quoted, officer):
    """The card order expired (the sweeper), the transfer was recorded, then the card payment
    still went through: the campaign refuses it and the payment is refunded."""
    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)
    (attempt,) = attempts(campaign)
    session_id = attempt.order.checkout_session_id
    db.session.execute(sa.update(Order).where(Order.id == attempt.order_id)
                       .values(hold_expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    with uow.unit():
        payments.expire_stale_orders()
    with uow.unit():
        services.mark_paid(reload(Campaign, campaign.id), by=None)

    _card_paid_late_is_refunded(client, fake_stripe, campaign, proforma, attempt, session_id,
                                order_status=OrderStatus.REFUNDED)


def test_money_for_a_card_order_ended_by_the_transfer_goes_back(client, fake_stripe, quoted,
                                                               officer):
    """The transfer was recorded, which ended the open card order (cancelled), and then the card
    payment still went through: the payment is refunded in full, the order stays cancelled."""
    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)
    (attempt,) = attempts(campaign)
    session_id = attempt.order.checkout_session_id
    with uow.unit():
        services.mark_paid(reload(Campaign, campaign.id), by=None)
    assert reload(Order, attempt.order_id).status == OrderStatus.CANCELLED

    _card_paid_late_is_refunded(client, fake_stripe, campaign, proforma, attempt, session_id,
                                order_status=OrderStatus.CANCELLED)


def _card_paid_late_is_refunded(client, fake_stripe, campaign, proforma, attempt, session_id,
                                *, order_status):
    """The card payment of `attempt` (its session) goes through after the campaign was paid by
    transfer: the webhook refunds it in full and the order ends as `order_status`."""
    fake_stripe.pay(session_id)
    assert deliver(client, session_event(fake_stripe, "checkout.session.completed",
                                         session_id)).status_code == 200

    order = reload(Order, attempt.order_id)
    assert order.status == order_status
    (refund,) = db.session.scalars(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.amount_cents == proforma.total_incl_vat_cents
    assert len(fake_stripe.refunds) == 1
    assert reload(Campaign, campaign.id).status == CampaignStatus.ISSUED  # paid by the transfer
    assert audit_count("campaign.paid_online") == 0


# --- by bank transfer, through Stripe ----------------------------------------------------------


def test_the_transfer_session_asks_stripe_for_a_french_virtual_iban(fake_stripe, quoted, officer,
                                                                   cse):
    campaign, proforma = quoted

    url = start("stripe_transfer", campaign, proforma, by=officer)

    (customer_call,) = fake_stripe.calls_to("post", "/v1/customers")
    assert customer_call.params["name"] == "CSE Textiles"
    customer_id = reload(Organization, cse.id).stripe_customer_id
    assert customer_id in fake_stripe.customers
    (call,) = fake_stripe.calls_to("post", "/v1/checkout/sessions")
    assert url.startswith("https://checkout.stripe.com/c/pay/")
    assert call.params["payment_method_types"] == ["customer_balance"]
    assert call.params["payment_method_options"] == {"customer_balance": {
        "funding_type": "bank_transfer",
        "bank_transfer": {"type": "eu_bank_transfer", "eu_bank_transfer": {"country": "FR"}}}}
    assert call.params["customer"] == customer_id and "customer_email" not in call.params
    # Paid days later: Stripe's page sends the manager back to the campaign page.
    assert call.params["success_url"] == call.params["cancel_url"] == "http://localhost/campaign"
    (attempt,) = attempts(campaign)
    assert attempt.method == "stripe_transfer"
    # The order waits days for the money (Stripe's page itself ends within 24 hours).
    assert attempt.order.hold_expires_at > utcnow() + timedelta(days=29)

    # Started again before the page was used: the same customer, a new session, the first
    # one ended.
    start("stripe_transfer", reload(Campaign, campaign.id), proforma, by=officer)
    assert len(fake_stripe.calls_to("post", "/v1/customers")) == 1
    created = [c for c in fake_stripe.calls_to("post", "/v1/checkout/sessions")
               if c.path == "/v1/checkout/sessions"]
    assert len(created) == 2
    assert fake_stripe.sessions[attempt.order.checkout_session_id]["status"] == "expired"


def awaiting_transfer(client, fake, campaign, proforma, officer) -> tuple[CampaignPayment, str]:
    """The manager went through Stripe's page: the session is complete, the money not there."""
    start("stripe_transfer", campaign, proforma, by=officer)
    (attempt,) = attempts(campaign)
    session_id = attempt.order.checkout_session_id
    fake.pay(session_id, payment_status="unpaid")
    response = deliver(client, session_event(fake, "checkout.session.completed", session_id))
    assert response.status_code == 200
    assert reload(Order, attempt.order_id).status == OrderStatus.PENDING_PAYMENT
    assert reload(Campaign, campaign.id).status == CampaignStatus.QUOTED
    return attempt, session_id


def test_the_transfer_arrives(client, fake_stripe, quoted, officer, paid_orders):
    campaign, proforma = quoted
    attempt, session_id = awaiting_transfer(client, fake_stripe, campaign, proforma, officer)

    # Awaited: starting again is refused (it would cancel the order the transfer pays).
    with pytest.raises(CampaignError) as refused:
        start("stripe_transfer", reload(Campaign, campaign.id), proforma, by=officer)
    assert "already awaited" in str(refused.value.message)
    assert len(attempts(campaign)) == 1
    # Nor can the order be paid again from its own page.
    with pytest.raises(payments.PaymentError) as on_its_way:
        payments.start_payment(reload(Order, attempt.order_id))
    assert "on its way" in str(on_its_way.value.message)

    fake_stripe.sessions[session_id]["payment_status"] = "paid"
    succeeded = session_event(fake_stripe, "checkout.session.async_payment_succeeded", session_id)
    assert deliver(client, succeeded).status_code == 200

    order = reload(Order, attempt.order_id)
    campaign = reload(Campaign, campaign.id)
    assert order.status == OrderStatus.PAID
    assert order.amount_paid_cents == proforma.total_incl_vat_cents
    # Paid, then its cards issued by the job queued after the payment's commit.
    assert campaign.status == CampaignStatus.ISSUED and campaign.order_id == order.id

    # The same event again, and another delivery saying the same: paid once.
    assert deliver(client, succeeded).json["message"] == "ok"
    assert deliver(client, session_event(fake_stripe, "checkout.session.async_payment_succeeded",
                                         session_id)).status_code == 200
    assert reload(Campaign, campaign.id).status == CampaignStatus.ISSUED
    assert paid_orders == [order.reference]
    assert audit_count("campaign.paid_online") == 1


def test_a_failed_transfer_leaves_the_campaign_payable(client, fake_stripe, quoted, officer):
    campaign, proforma = quoted
    attempt, session_id = awaiting_transfer(client, fake_stripe, campaign, proforma, officer)

    failed = session_event(fake_stripe, "checkout.session.async_payment_failed", session_id)
    assert deliver(client, failed).status_code == 200

    assert reload(Order, attempt.order_id).status == OrderStatus.EXPIRED
    assert reload(Campaign, campaign.id).status == CampaignStatus.QUOTED
    url = start("card", reload(Campaign, campaign.id), proforma, by=officer)
    assert url.startswith("https://checkout.stripe.com/")
    assert [a.method for a in attempts(campaign)] == ["stripe_transfer", "card"]


# --- at the same moment (PostgreSQL, real threads) ---------------------------------------------


@pytest.mark.postgres
def test_deliveries_at_once_pay_the_campaign_once(app, fake_stripe, quoted, officer, paid_orders):
    from tests.threads import at_once

    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)
    (attempt,) = attempts(campaign)
    session_id = attempt.order.checkout_session_id
    fake_stripe.pay(session_id)
    deliveries = [signed(session_event(fake_stripe, "checkout.session.completed", session_id))
                  for _ in range(6)]

    results, errors = at_once(app, lambda i: app.test_client().post(
        WEBHOOK, data=deliveries[i][0], headers=deliveries[i][1]).status_code, 6, timeout=30)

    assert errors == [] and results == [200] * 6
    # Paid once, then its cards issued once by the job queued after the payment's commit.
    assert reload(Campaign, campaign.id).status == CampaignStatus.ISSUED
    assert db.session.scalar(sa.select(sa.func.count(GiftCard.id))) == \
        services.totals(campaign)[0]
    assert reload(Order, attempt.order_id).status == OrderStatus.PAID
    assert paid_orders == [attempt.order.reference]
    assert audit_count("campaign.paid_online") == 1


@pytest.mark.postgres
def test_a_card_payment_and_a_transfer_at_once_pay_once(app, fake_stripe, quoted, officer):
    """The card payment's webhook and the transfer marked received at the same moment: one
    pays the campaign, the other is refused (the card's money goes back)."""
    from tests.threads import at_once

    campaign, proforma = quoted
    start("card", campaign, proforma, by=officer)
    (attempt,) = attempts(campaign)
    session_id = attempt.order.checkout_session_id
    fake_stripe.pay(session_id)
    body, headers = signed(session_event(fake_stripe, "checkout.session.completed", session_id))

    def work(i):
        if i == 0:
            return app.test_client().post(WEBHOOK, data=body, headers=headers).status_code
        try:
            with uow.unit():
                services.mark_paid(db.session.get(Campaign, campaign.id), by=None)
            return "transfer"
        except CampaignError:
            return "transfer refused"

    results, errors = at_once(app, work, 2, timeout=30)

    assert errors == []
    order = reload(Order, attempt.order_id)
    assert reload(Campaign, campaign.id).status == CampaignStatus.ISSUED  # paid, cards issued
    if "transfer refused" in results:  # the card came first
        assert order.status == OrderStatus.PAID and audit_count("campaign.paid_online") == 1
    else:  # the transfer came first: the card's money goes back, whichever way it arrives
        # Paid, then refunded (the webhook took the order while it was still open), or
        # cancelled with the campaign's other open orders first, its payment then refunded as
        # a late one.
        assert order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
        assert len(fake_stripe.refunds) == 1
        assert audit_count("campaign.paid_online") == 0
    assert 200 in results
