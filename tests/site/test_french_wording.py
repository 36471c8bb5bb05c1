"""What a French reader sees, on the pages where issue 12 (item 16) found French that read as a
translation: a count of one, a count of zero, a slot, a percentage, the header, a name that
starts with a vowel. English readers get day-month-year dates and the 24-hour clock."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import g

from marketplace.db import db
from marketplace.organizations.models import Role
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.pickup import services as pickup
from tests.factories import make_session_key
from tests.orders.helpers import make_cart, place_order

NBSP, NNBSP = "\u00a0", "\u202f"
# Wednesday 11 December 2030, 14:00 to 16:00 in Paris (UTC+1 in winter).
STARTS = datetime(2030, 12, 11, 13, 0, tzinfo=UTC)


def _slot(organization, starts=STARTS):
    location = pickup.save_location(
        None, organization, by=None, name="Boutique", address_line="1 rue de la Paix",
        postcode="69001", town="Lyon")
    return pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                           capacity=5, cutoff_hours=1, by=None)


def _login(client, user):
    key = make_session_key(user)
    db.session.commit()
    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True


def _paid_part(seller, product, slot):
    order = place_order(make_cart((product, 1)), {seller: slot})
    checkout_session = payments.start_payment(order)
    DemoGateway().complete(checkout_session.id)
    payments.fulfil_checkout_session(checkout_session.id)
    return order.parts[0]


def test_one_left_reads_as_one_copy_and_two_as_a_number(client, make_organization, make_product):
    seller = make_organization(name="Ressourcerie du Canal")
    last = make_product(seller, title="Lampe unique", stock=1)
    two = make_product(seller, title="Chaises paillées", stock=2)
    db.session.commit()
    page = client.get(f"/products/{last.id}").get_data(as_text=True)
    assert "Plus qu'un exemplaire" in page
    assert "Plus que 1" not in page
    page = client.get(f"/products/{two.id}").get_data(as_text=True)
    assert "Plus que 2 en stock" in page


def test_a_cart_line_with_one_left_reads_well(client, make_organization, make_product):
    seller = make_organization(name="Ressourcerie du Canal")
    lamp = make_product(seller, title="Lampe unique", stock=2)
    db.session.commit()
    client.post("/cart/add", data={"product_id": lamp.id, "quantity": "2"})
    lamp.stock = 1
    db.session.commit()
    page = client.get("/cart").get_data(as_text=True)
    assert f"Il en reste 1{NBSP}: réduisez la quantité pour continuer." in page
    assert "que 1" not in page


def test_no_seller_found_reads_as_none(client, make_organization):
    make_organization(name="Ressourcerie du Canal")
    db.session.commit()
    page = client.get("/search?q=introuvable").get_data(as_text=True)
    assert f"Aucun vendeur ne correspond à «{NBSP}introuvable{NBSP}»." in page
    assert "0 vendeur" not in page


@pytest.fixture
def manager(make_user):
    return make_user(name="Karim Benali")


@pytest.fixture
def seller_part(make_organization, make_product, manager):
    seller = make_organization(name="Ressourcerie du Canal", members={Role.MANAGER: manager})
    chair = make_product(seller, title="Chaise", price_cents=1800, stock=3)
    return seller, _paid_part(seller, chair, _slot(seller))


def test_the_slot_of_an_order_is_one_sentence_on_one_day(client, seller_part, manager):
    seller, part = seller_part
    _login(client, manager)
    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)
    assert f"mercredi 11{NBSP}décembre 2030, de 14{NNBSP}h{NNBSP}00 à 16{NNBSP}h{NNBSP}00" in page
    assert "11/12/2030" not in page and "14:00" not in page


def test_the_commission_rate_is_written_the_french_way(client, seller_part, manager):
    seller, part = seller_part
    _login(client, manager)
    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)
    assert re.search(f"0,90{NBSP}€ <span class=\"meta\">\\(5[{NBSP}{NNBSP}]%\\)</span>", page)
    assert "(5%)" not in page


def test_the_first_of_the_month_is_1er(client, make_organization, make_product, manager):
    seller = make_organization(name="Ressourcerie du Canal", members={Role.MANAGER: manager})
    chair = make_product(seller, title="Chaise", stock=3)
    part = _paid_part(seller, chair, _slot(seller, datetime(2030, 12, 1, 9, 0, tzinfo=UTC)))
    _login(client, manager)
    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)
    assert f"dimanche 1er{NBSP}décembre 2030, de 10{NNBSP}h{NNBSP}00 à 12{NNBSP}h{NNBSP}00" in page


def test_the_header_says_administration(client, make_user):
    _login(client, make_user(name="Sam Admin", is_admin=True))
    page = client.get("/").get_data(as_text=True)
    assert ">Administration</a>" in page
    assert ">Admin</a>" not in page


def test_a_name_starting_with_a_vowel_has_no_article_before_it(
        client, make_organization, make_user):
    owner = make_user(name="Claire Dumont")
    seller = make_organization(name="Épicerie du Partage", members={
        Role.OWNER: owner, Role.MANAGER: make_user(name="Élodie Perrin")})
    _login(client, owner)
    page = client.get(f"/orgs/{seller.id}/members").get_data(as_text=True)
    assert "de Élodie" not in page and "de Épicerie" not in page
    assert "Élodie Perrin" in page


def test_english_dates_are_day_month_year_on_a_24_hour_clock(client, seller_part, manager):
    seller, part = seller_part
    manager.locale = "en"
    _login(client, manager)
    page = client.get(f"/orgs/{seller.id}/orders/{part.id}").get_data(as_text=True)
    assert "Wednesday 11 December 2030, 14:00 to 16:00" in page
    assert "PM" not in page and "Dec 11" not in page


def test_the_demo_payment_page_lists_the_gift_card_it_charges(make_app):
    app = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    with app.app_context():
        client = app.test_client()
        client.post("/cards/buy", data={"amount": "5000", "for_whom": "gift",
                                        "recipient_name": "Mamie Jeanne",
                                        "recipient_email": "jeanne@example.org"})
        response = client.post("/checkout", data={"name": "Camille Martin",
                                                  "email": "camille@example.org",
                                                  "accept_terms": "y"})
        page = client.get(response.location).get_data(as_text=True)
    assert "Carte cadeau solidaire pour Mamie Jeanne" in page
    assert f"<td>50,00{NBSP}€</td>" in page


def test_todays_pickups_say_nothing_left_rather_than_zero(client, make_product):
    from tests.vouchers.helpers import make_shop, paid_order
    from tests.vouchers.test_todays_pickups import collect, local_today, move_slot

    shop = make_shop("Ressourcerie du Canal")
    shop.counter.locale = "fr"
    lamp = make_product(shop.organization, title="Lampe de bureau", stock=9)
    order = paid_order([(lamp, 1)])
    move_slot(shop.slot, local_today(10))
    db.session.commit()
    _login(client, shop.counter)
    page = client.get(f"/orgs/{shop.organization.id}/counter").get_data(as_text=True)
    summary = " ".join(page[page.index("today-summary"):].split())[:200]
    assert "1 commande à retirer</strong> · aucune retirée pour l'instant" in summary
    collect(shop, order, local_today(10, 2))
    page = client.get(f"/orgs/{shop.organization.id}/counter").get_data(as_text=True)
    summary = " ".join(page[page.index("today-summary"):].split())[:200]
    assert "Plus rien à retirer</strong> · 1 retirée" in summary
    assert "0 commande" not in summary
