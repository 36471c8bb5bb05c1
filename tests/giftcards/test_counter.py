"""Spending a card at the counter: scan or type the code, an amount, confirm; retries are safe.
Only a card found by its code (or QR) in this visit can be debited, and no page shows its code."""
from datetime import timedelta

import pytest

from marketplace.db import db, utcnow
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.ledger import services as ledger
from marketplace.organizations.models import Membership, Role
from tests import factories
from tests.giftcards.helpers import (
    field_value,
    find_at_counter,
    make_card,
    make_seller_with_counter,
    pay_at_counter,
)


@pytest.fixture
def shop(app):
    return make_seller_with_counter()


def reload(card):
    db.session.expire_all()
    return db.session.get(GiftCard, card.id)


def debits(card):
    return db.session.query(CardTransaction).filter_by(card_id=card.id, kind="redeem").count()


def shows_no_code(html: str, card) -> bool:
    """The page names the card by its last 4 characters only."""
    return card.code not in html and card.display_code not in html and card.code[:12] not in html


def test_scan_the_card_url_enter_an_amount_and_confirm(client, login, shop, app):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    url = f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"
    page = find_at_counter(client, organization, url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Balance: €50.00" in html
    response = pay_at_counter(client, organization, html, "20,00")
    assert "Paid €20.00 with the card" in response.get_data(as_text=True)
    # The same form sent again (a double tap, a retry): one debit only.
    pay_at_counter(client, organization, html, "20,00")
    assert reload(card).balance_cents == 3000 and debits(card) == 1
    # The seller is owed the amount less its commission (5 % by default).
    assert ledger.balance(organization.id) == 2000 - 100


def test_a_bare_card_id_never_debits_a_card(client, login, shop):
    """Card ids run 1, 2, 3...: a clerk must show the card's code, not guess its number."""
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    old_url = f"/orgs/{organization.id}/counter/cards/{card.id}/debit"
    assert client.post(old_url, data={"amount": "20", "nonce": "n1"}).status_code == 404
    pay = f"/orgs/{organization.id}/counter/cards/pay"
    for ticket in (None, "", str(card.id), f"{card.id}.x.y", "é" * 400):
        data = {"amount": "20", "nonce": "n2"} | ({} if ticket is None else {"ticket": ticket})
        response = client.post(pay, data=data)
        assert response.status_code == 404
        assert "Scan the card" in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000 and debits(card) == 0


def test_what_the_counter_found_is_good_for_this_clerk_at_this_counter_only(client, login, shop):
    organization, counter, manager = shop
    other_shop, other_counter, _ = make_seller_with_counter("Ressourcerie du Canal")
    db.session.add(Membership(organization=other_shop, user=counter, role=Role.COUNTER))
    db.session.commit()
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    # The same form, sent by another member of the shop, or for the clerk's other shop.
    login(manager)
    assert pay_at_counter(client, organization, html, "5").status_code == 404
    login(counter)
    assert pay_at_counter(client, other_shop, html, "5").status_code == 404
    assert reload(card).balance_cents == 5000
    assert pay_at_counter(client, organization, html, "5").status_code == 200
    assert reload(card).balance_cents == 4500


def test_a_card_found_long_ago_must_be_scanned_again(client, login, shop, app):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    app.config["COUNTER_TICKET_SECONDS"] = -1  # every ticket is now too old
    response = pay_at_counter(client, organization, html, "5")
    assert response.status_code == 400 and "scan it again" in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000


def test_the_card_is_found_through_a_form_never_through_its_address(client, login, shop):
    """A code in a URL stays in the till's history and in the access logs."""
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    page = client.get(f"/orgs/{organization.id}/counter/cards", query_string={"q": card.code})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="ticket"' not in html
    assert '<form method="post"' in html and 'id="counter-scan"' in html


def test_no_counter_page_shows_the_card_code(client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    found = find_at_counter(client, organization, card.display_code).get_data(as_text=True)
    assert shows_no_code(found, card) and f"••••\u2011••••\u2011••••\u2011{card.code[-4:]}" in found
    for amount, status in (("abc", 400), ("80", 409), ("0", 400), ("12", 200)):
        response = pay_at_counter(client, organization, found, amount)
        html = response.get_data(as_text=True)
        assert response.status_code == status, (amount, html)
        assert shows_no_code(html, card) and card.code[-4:] in html


def test_after_a_payment_the_card_is_put_away_and_the_scan_field_is_ready(
        client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    assert 'name="amount"' in html
    done = pay_at_counter(client, organization, html, "12,50").get_data(as_text=True)
    result = done.split('role="status"')[1].split("</div>")[0]
    assert "Paid €12.50 with the card" in result and "€37.50" in result
    assert card.code[-4:] in result
    # No card is loaded any more: the next amount typed cannot go to the same card.
    assert 'name="amount"' not in done and 'name="ticket"' not in done
    assert 'id="q" name="q" type="text" value="" autofocus' in done


def test_a_purchase_larger_than_the_balance_can_take_the_whole_balance(client, login, shop):
    organization, counter, _ = shop
    card = make_card(3000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    short = pay_at_counter(client, organization, html, "45")
    page = short.get_data(as_text=True)
    assert short.status_code == 409 and reload(card).balance_cents == 3000
    assert "The purchase is €45.00 and the card has €30.00 left." in page
    assert "Use the whole balance (€30.00)" in page
    whole = page.split('id="whole-balance"')[1].split("</form>")[0]
    done = client.post(f"/orgs/{organization.id}/counter/cards/pay", data={
        "ticket": field_value(whole, "ticket"), "nonce": field_value(whole, "nonce"),
        "amount": field_value(whole, "amount"), "purchase": field_value(whole, "purchase")})
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and reload(card).balance_cents == 0
    assert "Paid €30.00 with the card" in text
    assert "Still to pay by other means: €15.00." in text


def test_the_voucher_counter_field_shows_a_card_typed_into_it(client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    # The counter page posts the field; an address opened by a scanner app is answered too.
    opened = client.get(f"/orgs/{organization.id}/counter/scan", query_string={"q": card.display_code})
    assert opened.status_code == 200 and "Balance: €50.00" in opened.get_data(as_text=True)
    response = client.post(f"/orgs/{organization.id}/counter/scan", data={"q": card.display_code})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Balance: €50.00" in html
    assert shows_no_code(html, card) and 'name="ticket"' in html
    assert pay_at_counter(client, organization, html, "5").status_code == 200
    assert reload(card).balance_cents == 4500


@pytest.mark.parametrize("amount, message", [("abc", "Type an amount"), ("60,00", "the card has €50.00 left"),
                                             ("0", "above zero"), ("-5", "Type an amount")])
def test_a_bad_amount_is_refused_and_nothing_is_debited(client, login, shop, amount, message):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    response = pay_at_counter(client, organization, html, amount)
    assert response.status_code in (400, 409) and message in response.get_data(as_text=True)
    assert 'name="amount"' in response.get_data(as_text=True)  # the clerk types it again
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
    # The debit finds the card by its code in its UPDATE: an unknown code is still said first.
    assert client.post(url, json={"q": "K7QM-4XPD-R2ST-8WHN", "amount_cents": 0,
                                  "nonce": "e"}).status_code == 404
    assert client.post(url, json={"q": card.code, "amount_cents": 0,
                                  "nonce": "e"}).status_code == 400
    # A nonce is told apart per card: the same nonce on another card debits it.
    other = make_card(1000)
    again = client.post(url, json={"q": other.code, "amount_cents": 100, "nonce": "a"})
    assert again.status_code == 200 and again.json["replayed"] is False
    assert again.json["balance_cents"] == 900
    assert reload(card).balance_cents == 3800


def test_an_expired_or_blocked_card_is_refused(client, login, shop):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    card.expires_at = utcnow() - timedelta(days=1)  # it expires while the clerk types
    db.session.commit()
    response = pay_at_counter(client, organization, html, "5")
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000
    found = find_at_counter(client, organization, card.code).get_data(as_text=True)
    assert "expired" in found.lower() and 'name="amount"' not in found


def test_counter_staff_of_a_works_council_cannot_take_cards(client, login, app):
    from marketplace.organizations.models import OrganizationKind

    cse = factories.make_organization(name="CSE", kind=OrganizationKind.WORKS_COUNCIL)
    user = factories.make_user(email="cse@example.org")
    db.session.add(Membership(organization=cse, user=user, role=Role.OWNER))
    card = make_card(5000)
    login(user)
    # The counter is a seller's page: a works council does not even see it.
    assert find_at_counter(client, cse, card.code).status_code == 403
    response = client.post(f"/orgs/{cse.id}/counter/cards/debit",
                           json={"code": card.code, "amount_cents": 500, "nonce": "n1"})
    assert response.status_code == 403 and reload(card).balance_cents == 5000


@pytest.mark.parametrize("body, wrong", [
    (None, ["_schema"]),
    ([], ["_schema"]),
    ({"q": "x", "nonce": "a"}, ["amount_cents"]),
    ({"q": "x", "amount_cents": True, "nonce": "a"}, ["amount_cents"]),
    ({"q": "x", "amount_cents": 12.5, "nonce": "a"}, ["amount_cents"]),
    ({"q": "x", "amount_cents": "1200", "nonce": ""}, ["amount_cents", "nonce"]),
    ({"q": 7, "amount_cents": 1200, "nonce": "x" * 65}, ["nonce", "q"]),
])
def test_a_malformed_json_debit_is_a_400_naming_the_wrong_fields(client, login, shop, body, wrong):
    organization, counter, _ = shop
    card = make_card(5000)
    login(counter)
    response = client.post(f"/orgs/{organization.id}/counter/cards/debit", json=body)
    assert response.status_code == 400 and response.json["result"] == "invalid"
    assert response.json["fields"] == wrong
    assert "amount_cents (an integer)" in response.json["message"]
    assert reload(card).balance_cents == 5000
