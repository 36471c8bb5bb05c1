"""Spending a card at the counter: scan or type, an amount, confirm; retries are safe."""
import pytest

from marketplace.db import db
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.ledger import services as ledger
from tests.giftcards.helpers import make_card, make_seller_with_counter


@pytest.fixture
def shop(app):
    return make_seller_with_counter()


def reload(card):
    db.session.expire_all()
    return db.session.get(GiftCard, card.id)


def debits(card):
    return db.session.query(CardTransaction).filter_by(card_id=card.id, kind="redeem").count()


def test_scan_the_card_url_enter_an_amount_and_confirm(client, login, shop, app):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    url = f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"
    page = client.get(f"/orgs/{organization.id}/counter/cards", query_string={"q": url})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Balance: €50.00" in html
    nonce = html.split('name="nonce" value="')[1].split('"')[0]
    response = client.post(f"/orgs/{organization.id}/counter/cards/{card.id}/debit",
                           data={"amount": "20,00", "nonce": nonce})
    assert "Paid €20.00 with the card" in response.get_data(as_text=True)
    # The same form sent again (a double tap, a retry): one debit only.
    client.post(f"/orgs/{organization.id}/counter/cards/{card.id}/debit",
                data={"amount": "20,00", "nonce": nonce})
    assert reload(card).balance_cents == 3000 and debits(card) == 1
    # The seller is owed the amount less its commission (5 % by default).
    assert ledger.balance(organization.id) == 2000 - 100


def test_the_voucher_counter_field_sends_a_card_code_to_the_card_page(client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    response = client.get(f"/orgs/{organization.id}/counter/scan", query_string={"q": card.display_code})
    assert response.status_code == 303 and "/counter/cards" in response.location


@pytest.mark.parametrize("amount, message", [("abc", "Type an amount"), ("60,00", "Only €50.00 left"),
                                             ("0", "above zero"), ("-5", "Type an amount")])
def test_a_bad_amount_is_refused_and_nothing_is_debited(client, login, shop, amount, message):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    response = client.post(f"/orgs/{organization.id}/counter/cards/{card.id}/debit",
                           data={"amount": amount, "nonce": "n1"})
    assert response.status_code in (400, 409) and message in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000


def test_the_json_debit_for_scanner_apps(client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    url = f"/orgs/{organization.id}/counter/cards/debit"
    first = client.post(url, json={"q": card.display_code, "amount_cents": 1200, "nonce": "a"})
    assert first.status_code == 200 and first.json["balance_cents"] == 3800
    retry = client.post(url, json={"q": card.display_code, "amount_cents": 1200, "nonce": "a"})
    assert retry.json["replayed"] is True and retry.json["transaction_id"] == first.json["transaction_id"]
    too_much = client.post(url, json={"q": card.code, "amount_cents": 9000, "nonce": "b"})
    assert too_much.status_code == 409 and "Only €38.00 left" in too_much.json["message"]
    for body in (None, {"q": card.code, "amount_cents": "12", "nonce": "c"},
                 {"q": card.code, "amount_cents": 100}, {"q": 5, "amount_cents": 100, "nonce": "c"}):
        assert client.post(url, json=body).status_code == 400
    assert client.post(url, json={"q": "K7QM-4XPD-R2ST-8WHN", "amount_cents": 100,
                                  "nonce": "d"}).status_code == 404
    assert reload(card).balance_cents == 3800


def test_an_expired_or_blocked_card_is_refused(client, login, shop):
    from datetime import timedelta

    from marketplace.db import utcnow

    organization, counter, _ = shop
    card = make_card(5000)
    card.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login(counter)
    response = client.post(f"/orgs/{organization.id}/counter/cards/{card.id}/debit",
                           data={"amount": "5", "nonce": "n"})
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000


def test_counter_staff_of_a_works_council_cannot_take_cards(client, login, app):
    from marketplace.organizations.models import Membership, OrganizationKind, Role
    from tests import factories

    cse = factories.make_organization(name="CSE", kind=OrganizationKind.WORKS_COUNCIL)
    user = factories.make_user(email="cse@example.org")
    db.session.add(Membership(organization=cse, user=user, role=Role.OWNER))
    card = make_card(5000)
    login(user)
    response = client.post(f"/orgs/{cse.id}/counter/cards/{card.id}/debit",
                           data={"amount": "5", "nonce": "n"})
    assert response.status_code == 400 and reload(card).balance_cents == 5000
