"""The admin page of the limited-network figures: card payments over the last 12 months (spent,
less what was put back, plus holders' donations) and the value left on unexpired cards, each
against the threshold, with a warning near it and past it; admins only; French by default."""
import html
import re
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.figures import NEAR, OK, OVER, limited_network_figures
from marketplace.money import format_money
from tests import factories
from tests.giftcards.helpers import make_card, make_seller_with_counter

URL = "/admin/cards/limited-network"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def text(response) -> str:
    body = html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r"[ \t\r\n]+", " ", body)


@pytest.fixture
def history(app):
    """Card A: issued and spent (20 €) more than 12 months ago, expired with 30 € left.
    Card B: 100 €, 40 € spent and 10 € put back within the 12 months, 70 € left.
    Card C: 50 €, blocked (lost), unspent. Card D: 80 €, 25 € given to an association within
    the 12 months and 5 € spent on the very day 12 months ago (outside: the window is open)."""
    seller, _, _ = make_seller_with_counter()
    association = factories.make_organization(name="Les Restos Solidaires", kind="association")
    with freeze_time("2025-06-01 10:00:00"):
        card_a = make_card(5000)
    with freeze_time("2025-07-01 10:00:00"):
        cards.redeem(card_a.id, 2000, organization=seller)
    with freeze_time("2026-03-01 10:00:00"):
        card_b = make_card(10000)
        card_c = make_card(5000)
        card_d = make_card(8000)
    with freeze_time("2026-04-01 10:00:00"):
        cards.redeem(card_b.id, 4000, organization=seller)
    with freeze_time("2026-05-01 10:00:00"):
        cards.refund(card_b.id, 1000, reason="order cancelled")
        cards.block(card_c.id, reason="lost", by=None)
        cards.donate(card_d.id, association, amount_cents=2500)
    cards.redeem(card_d.id, 500, organization=seller, now=datetime(2025, 12, 1, 12, 0, tzinfo=UTC))
    db.session.commit()
    return card_a, card_b, card_c, card_d


def test_figures_count_the_last_12_months_and_unexpired_cards(app, history):
    figures = limited_network_figures(NOW)
    assert figures.since == datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    assert (figures.redeemed_cents, figures.refunded_cents, figures.donated_cents) == (4000, 1000, 2500)
    assert figures.payments.cents == 4000 - 1000 + 2500
    # A (expired, 30 € left) is out; B 70 €, C 50 € (blocked: still owed), D 80 - 25 - 5 = 50 €.
    assert figures.outstanding.cents == 7000 + 5000 + 5000
    assert figures.payments.threshold_cents == 1_000_000_00
    assert figures.payments.level == figures.outstanding.level == OK


def test_cards_expired_since_leave_the_outstanding_value(app, history):
    later = limited_network_figures(datetime(2027, 3, 2, tzinfo=UTC))  # B, C, D expired
    assert later.outstanding.cents == 0
    assert later.payments.cents == 4000 - 1000 + 2500  # April and May 2026: still in the window


def test_expiry_given_to_an_association_is_not_a_payment(app):
    association = factories.make_organization(name="Asso Expiry", kind="association")
    with freeze_time("2026-01-01 10:00:00"):
        card = make_card(3000)
    app.config.update(GIFTCARD_EXPIRY_POLICY="donate", GIFTCARD_EXPIRY_ASSOCIATION=association.slug)
    with freeze_time("2027-01-02 10:00:00"):
        assert cards.expire_due() == 1
    figures = limited_network_figures(datetime(2027, 1, 3, tzinfo=UTC))
    assert figures.payments.cents == 0 and figures.outstanding.cents == 0
    assert db.session.get(type(card), card.id).balance_cents == 0


def test_levels_against_the_threshold(app, history):
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 20000  # 200 €
    figures = limited_network_figures(NOW)
    assert (figures.payments.level, figures.outstanding.level) == (OK, NEAR)  # 27,5 %, 85 %
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 17000  # exactly reached: not passed
    assert limited_network_figures(NOW).outstanding.level == NEAR
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 16999
    assert limited_network_figures(NOW).outstanding.level == OVER


def admin(login, locale="fr"):
    return login(factories.make_user(name="Sam Admin", is_admin=True, locale=locale,
                                     email=f"sam-{locale}@platform.example.org"))


@freeze_time(NOW)
def test_the_page_in_french_with_the_warnings(app, client, login, history):
    admin(login)
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 16000  # 160 €
    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "Cartes cadeaux : chiffres du réseau limité" in page.replace("\u00a0", " ")
    assert format_money(5500) == "55,00\u00a0€"
    assert "55,00\u00a0€" in page and "34,4\u00a0% du seuil de 160,00\u00a0€" in page
    assert "170,00\u00a0€" in page and "106,2\u00a0% du seuil" in page
    assert ("Du 1er\u00a0décembre 2025 au 1er\u00a0décembre 2026\u00a0: 40,00\u00a0€ dépensés, "
            "moins 10,00\u00a0€ recrédités sur les cartes, plus 25,00\u00a0€ donnés") in page
    assert "Seuil dépassé" in page and "ACPR" in page
    assert "Au-delà de 80\u00a0% du seuil" not in page
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 20000
    page = text(client.get(URL))
    assert "Au-delà de 80\u00a0% du seuil" in page and "Seuil dépassé" not in page
    assert "85\u00a0% du seuil de 200,00\u00a0€" in page
    assert 'href="/admin/cards/limited-network" aria-current="page"' in client.get(URL).get_data(as_text=True)


@freeze_time(NOW)
def test_the_default_threshold_in_french(app, client, login, history):
    admin(login)
    page = text(client.get(URL))
    assert "1\u202f000\u202f000,00\u00a0€" in page
    assert "0\u00a0% du seuil" in page  # 55 € of a million
    assert "Seuil dépassé" not in page and "Au-delà de 80" not in page


def test_admins_only(app, client, login):
    assert client.get(URL).status_code in (302, 401)
    login(factories.make_user(email="shopper-net@example.org"))
    assert client.get(URL).status_code == 403


@freeze_time(NOW)
def test_the_page_in_english(app, client, login, history):
    admin(login, locale="en")
    app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] = 16000
    page = text(client.get(URL))
    assert "Payments made with gift cards over the last 12 months" in page
    assert "€55.00" in page and "34.4% of the €160.00 threshold" in page
    assert "From 1 December 2025 to 1 December 2026: €40.00 spent, less €10.00" in page
    assert "Over the threshold" in page and "Above 80%" not in page
