"""The shopper's side: their consents (withdraw one), "download my data" and "erase my
account" (what goes, what stays anonymised, every login ended)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User, UserSession
from marketplace.consent.models import MarketingConsent
from marketplace.db import db
from marketplace.giftcards import services as giftcards
from marketplace.giftcards.models import GiftCard
from marketplace.orders.models import Cart, Order
from tests.factories import DEFAULT_PASSWORD, make_session_key
from tests.orders.shopper import add_to_cart, checkout, last_order, text

pytestmark = pytest.mark.english


@pytest.fixture
def shopper(client, login, market, make_user, fake_payments):
    """A logged-in shopper who ordered from both sellers, agreed to hear from the canal, and
    bought a gift card."""
    user = login(make_user(email="camille@example.org", name="Camille Martin"))
    add_to_cart(client, market.lamp, 1)
    add_to_cart(client, market.bowl, 1)
    response = checkout(client, {market.canal: market.canal_slots[0],
                                 market.loire: market.loire_slots[0]},
                        name="Camille Martin", phone="06 12 34 56 78",
                        **{f"consent-{market.canal.id}": "y"})
    assert response.status_code == 303
    giftcards.issue(3000, buyer_email=user.email, buyer_name=user.name, buyer_user_id=user.id,
                    recipient_name="Sam", recipient_email="sam@example.org", locale="en")
    add_to_cart(client, market.jam, 1)  # a cart left with a line
    db.session.commit()
    return user


def test_my_consents_and_withdrawing_one(client, login, shopper, market, make_user):
    page = text(client.get("/account/consents"))
    assert "Ressourcerie du Canal" in page and "In force" in page
    assert "I agree to receive news and offers by email from the seller" in page
    assert "at checkout" in page
    (consent,) = db.session.scalars(sa.select(MarketingConsent)).all()
    response = client.post(f"/account/consents/{consent.id}/withdraw")
    assert response.status_code == 303
    db.session.expire_all()
    assert consent.withdrawn_how == "account" and consent.withdrawn_at is not None
    assert "Withdrawn on" in text(client.get("/account/consents"))
    # Someone else cannot touch it.
    login(make_user(email="other@example.org"))
    assert client.post(f"/account/consents/{consent.id}/withdraw").status_code == 404


def test_download_my_data(client, shopper, market):
    order = last_order()
    response = client.get("/account/data/download")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "camille@example.org"
    assert data["account"]["name"] == "Camille Martin"
    (exported,) = data["orders"]
    assert exported["reference"] == order.reference and exported["total_cents"] == 2750
    assert exported["phone"] == "06 12 34 56 78"
    assert {(s["seller"], s["lines"][0]["title"]) for s in exported["sellers"]} == {
        ("Ressourcerie du Canal", "Lampe de bureau"), ("Atelier de la Loire", "Bol en céramique")}
    (card,) = data["gift_cards_bought"]
    assert card["initial_cents"] == 3000 and card["recipient_email"] == "sam@example.org"
    assert len(card["code_ends_with"]) == 4
    (consent,) = data["consents"]
    assert consent["seller"] == "Ressourcerie du Canal" and consent["how"] == "checkout"
    assert consent["wording"].startswith("I agree to receive news")
    assert len(data["logins"]) == 1


def test_erase_my_account(client, shopper, market):
    page = text(client.get("/account/data"))
    assert "10 years" in page and "Erase my account</button>" in page
    other_login = make_session_key(shopper)  # another device
    db.session.commit()
    order_id, user_id = last_order().id, shopper.id

    # A wrong password changes nothing.
    response = client.post("/account/data/erase", data={"password": "wrong", "confirm": "y"})
    assert response.status_code == 400 and "This password is not right." in text(response)
    # Without the box ticked, nothing either.
    response = client.post("/account/data/erase", data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert db.session.get(User, user_id) is not None

    response = client.post("/account/data/erase",
                           data={"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user_id) is None
    assert db.session.scalars(sa.select(UserSession)).all() == []
    assert db.session.scalars(sa.select(MarketingConsent)).all() == []
    assert db.session.scalar(sa.select(Cart).where(Cart.user_id == user_id)) is None
    # The accounting records stay, without who.
    order = db.session.get(Order, order_id)
    assert (order.user_id, order.name, order.email, order.phone) == (None, "", "", "")
    assert order.total_cents == 2750 and len(order.parts) == 2
    (card,) = db.session.scalars(sa.select(GiftCard)).all()
    assert (card.buyer_user_id, card.buyer_name, card.buyer_email) == (None, "", "")
    assert card.initial_cents == 3000
    # The audit says an account was erased, not whose.
    from marketplace.audit.models import AuditEntry

    (entry,) = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "account.erased")).all()
    assert (entry.actor_id, entry.data) == (None, {"orders": 1})
    assert "camille" not in str(entry.data)
    # Logged out here and on the other device.
    assert client.get("/account").status_code == 302
    assert other_login  # its row is gone with the others (above)


def test_a_member_of_an_organization_is_asked_to_leave_first(client, login, market, make_user):
    from marketplace.organizations.models import Membership, Role

    user = make_user(email="staff@example.org")
    db.session.add(Membership(organization=market.canal, user=user, role=Role.MANAGER))
    login(user)
    assert "ask its manager to remove you first" in text(client.get("/account/data"))
    response = client.post("/account/data/erase",
                           data={"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 409
    assert db.session.get(User, user.id) is not None
