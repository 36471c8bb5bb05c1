"""A works council's card (a restriction profile) pays only for the goods and at the sellers its
profile allows, online and at the counter, and says why it refuses; the SQL rule of the counter
and its Python twin agree; cards without a profile pay as before."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from marketplace.audit.models import AuditEntry
from marketplace.catalog.models import Category
from marketplace.catalog.services import get_category
from marketplace.db import db, utcnow
from marketplace.giftcards import payment, restrictions
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import (
    CampaignEvent,
    CardTransaction,
    GiftCard,
    OrderCardPayment,
    RestrictionProfile,
)
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderStatus
from marketplace.organizations.models import OrganizationKind
from tests import factories
from tests.factories import make_product
from tests.giftcards.helpers import (
    find_at_counter,
    make_card,
    make_seller_with_counter,
    pay_at_counter,
)
from tests.payments.fake_stripe import FakeStripe, stripe_settings
from tests.vouchers.helpers import make_shop

BACK_TO_SCHOOL = ("books", "clothing", "culture")


def make_profile(event=CampaignEvent.BACK_TO_SCHOOL, slugs=BACK_TO_SCHOOL, sellers=()):
    cse = factories.make_organization(name="CSE Textiles", kind=OrganizationKind.WORKS_COUNCIL)
    profile = RestrictionProfile(
        organization_id=cse.id, event=event, sellers=list(sellers),
        categories=list(db.session.scalars(sa.select(Category).where(Category.slug.in_(slugs)))))
    db.session.add(profile)
    db.session.commit()
    return profile


def restricted_card(amount_cents=5000, **profile):
    card = make_card(amount_cents)
    card.restriction_profile_id = make_profile(**profile).id
    card.holder_name, card.holder_email = "Camille Martin", "camille@textiles.example"
    db.session.commit()
    return card


def balance(card) -> int:
    db.session.expire_all()
    return db.session.get(GiftCard, card.id).balance_cents


def everything_written() -> tuple[int, ...]:
    """How many rows a payment writes: transactions, ledger entries, audit lines, orders."""
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (CardTransaction, LedgerEntry, AuditEntry, Order, OrderCardPayment))


def path(slug: str) -> tuple[int, ...]:
    return restrictions.category_path(slug)


# --- the rule -----------------------------------------------------------------------------------

def test_a_main_category_covers_its_subcategories_and_nothing_else(app):
    restriction = restrictions.of_card(restricted_card())
    seller = factories.make_organization(kind=OrganizationKind.SOCIAL_ENTERPRISE)
    assert restriction.allows(seller.id, path("books"))
    assert restriction.allows(seller.id, path("books-school"))  # school supplies, under books
    assert restriction.allows(seller.id, path("clothing-children"))
    assert not restriction.allows(seller.id, path("food-fresh"))
    assert not restriction.allows(seller.id, path("toys"))
    assert not restriction.allows(seller.id, None)  # nothing said of what is bought
    assert not restriction.allows(seller.id, ())


def test_a_card_without_a_profile_or_with_an_empty_one_is_not_restricted(app):
    assert restrictions.of_card(make_card()) is None
    assert restrictions.of_card(restricted_card(slugs=())) is None


def test_the_reason_names_the_event_and_the_categories_in_the_readers_language(app):
    restriction = restrictions.of_card(restricted_card())
    with app.test_request_context(), force_locale("en"):
        assert str(restriction.reason) == (
            "This card from your works council is for back-to-school purchases: clothing and "
            "accessories, books and school supplies, culture and leisure.")
    with app.test_request_context(), force_locale("fr"):
        assert str(restriction.reason) == (
            "Cette carte de votre CSE est destinée aux achats de la rentrée scolaire\u00a0: "
            "vêtements et accessoires, livres et fournitures scolaires, culture et loisirs.")


def test_the_reason_names_the_sellers_when_the_profile_does(app):
    first = factories.make_organization(name="Ressourcerie du Canal", kind=OrganizationKind.SOCIAL_ENTERPRISE)
    second = factories.make_organization(name="Atelier Vélo", kind=OrganizationKind.SOCIAL_ENTERPRISE)
    christmas = restrictions.of_card(restricted_card(event=CampaignEvent.CHRISTMAS, slugs=("toys",),
                                                     sellers=(first, second)))
    with app.test_request_context(), force_locale("en"):
        assert str(christmas.reason) == (
            "This card from your works council is for Christmas purchases: toys and games. "
            "It can be spent only at: Atelier Vélo, Ressourcerie du Canal.")
    with app.test_request_context(), force_locale("fr"):
        assert str(christmas.reason) == (
            "Cette carte de votre CSE est destinée aux achats de Noël\u00a0: jouets et jeux. "
            "Elle ne peut être utilisée que chez\u00a0: Atelier Vélo, Ressourcerie du Canal.")
    only_sellers = restrictions.of_card(restricted_card(event=CampaignEvent.NONE, slugs=(),
                                                        sellers=(first,)))
    with app.test_request_context(), force_locale("en"):
        assert str(only_sellers.reason) == (
            "This card from your works council can be spent only at: Ressourcerie du Canal.")
    assert only_sellers.allows(first.id, None) and not only_sellers.allows(second.id, None)


def test_every_event_has_its_sentence_in_both_languages(app):
    for event in CampaignEvent:
        restriction = restrictions.Restriction(1, event, (restrictions.AllowedCategory(
            1, "books", "Livres", "Books"),), ())
        for locale in ("en", "fr"):
            with app.test_request_context(), force_locale(locale):
                text = str(restriction.reason)
                assert text.endswith("livres." if locale == "fr" else "books.")
                assert ("CSE" if locale == "fr" else "works council") in text


def test_the_sql_rule_and_its_python_twin_agree(app):
    allowed_seller = factories.make_organization(kind=OrganizationKind.SOCIAL_ENTERPRISE)
    other_seller = factories.make_organization(kind=OrganizationKind.SOCIAL_ENTERPRISE)
    made = [
        make_card(),
        restricted_card(),
        restricted_card(slugs=("toys",), sellers=(allowed_seller,)),
        restricted_card(event=CampaignEvent.NONE, slugs=(), sellers=(allowed_seller,)),
        restricted_card(slugs=()),  # names nothing: restricts nothing
    ]
    ids = [card.id for card in made]
    situations = [(seller.id, categories) for seller in (allowed_seller, other_seller)
                  for categories in (None, (), path("books"), path("books-novels"), path("toys"),
                                     path("toys-games"), path("food"), path("food-drinks"))]
    by_id = {card.id: restrictions.of_card(card) for card in made}
    for organization_id, categories in situations:
        in_sql = set(db.session.scalars(sa.select(GiftCard.id).where(
            GiftCard.id.in_(ids), restrictions.allows_sql(organization_id, categories))))
        in_python = {card_id for card_id, restriction in by_id.items()
                     if restriction is None or restriction.allows(organization_id, categories)}
        assert in_sql == in_python, (organization_id, categories)
    assert made[0].id in in_sql and made[4].id in in_sql  # an unrestricted card, always


def test_reading_the_restrictions_of_several_cards_takes_two_queries(app):
    seller = factories.make_organization(kind=OrganizationKind.SOCIAL_ENTERPRISE)
    found = [restricted_card(sellers=(seller,)), restricted_card(slugs=("toys",)), make_card()]
    db.session.expire_all()
    found = [db.session.get(GiftCard, card.id) for card in found]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        allowed = restrictions.of_cards(found)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    assert set(allowed) == {found[0].id, found[1].id}


# --- online -------------------------------------------------------------------------------------

@pytest.fixture
def fake():
    return FakeStripe()


@pytest.fixture
def shopper(make_app, fake):
    """A shopper's browser, on a site whose gateway is (a fake) Stripe."""
    app = make_app(**stripe_settings(fake))
    with app.app_context():
        yield app.test_client()


def checkout(client, items, codes):
    """Put (product, quantity) in the cart, then check out with these card codes."""
    slots = {}
    for product, quantity, shop in items:
        client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})
        slots[f"slot-{shop.organization.id}"] = shop.slot.id
    return client.post("/checkout", data={
        "name": "Camille Martin", "email": "camille@example.org", "accept_terms": "y",
        "gift_cards": codes, **slots})


def test_a_restricted_card_pays_for_an_allowed_product_in_a_subcategory(shopper, fake):
    shop = make_shop()
    satchel = make_product(shop.organization, price_cents=2400, category_slug="books-school")
    card = restricted_card(5000)
    response = checkout(shopper, [(satchel, 1, shop)], card.code)
    assert response.status_code == 303 and fake.calls == []  # paid by the card alone
    order = db.session.scalar(sa.select(Order))
    assert order.status == OrderStatus.PAID and balance(card) == 2600


def test_a_restricted_card_that_allows_nothing_in_the_cart_is_refused_with_its_reason(shopper, fake):
    shop = make_shop()
    bread = make_product(shop.organization, price_cents=400, category_slug="food-fresh")
    card = restricted_card(5000)
    before = everything_written()
    response = checkout(shopper, [(bread, 2, shop)], card.display_code)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This card from your works council is for back-to-school purchases" in html
    assert everything_written() == before and balance(card) == 5000 and fake.calls == []
    held = db.session.get(type(bread), bread.id)
    assert held.held_units == 0  # nothing kept for an order that does not exist


def test_a_mixed_cart_is_paid_in_part_by_the_card_and_the_page_says_why(shopper, fake):
    books, grocer = make_shop("Librairie Solidaire"), make_shop("Épicerie du Coin")
    novel = make_product(books.organization, price_cents=1800, category_slug="books-novels")
    jam = make_product(grocer.organization, price_cents=700, category_slug="food-grocery")
    card = restricted_card(5000)
    response = checkout(shopper, [(novel, 2, books), (jam, 1, grocer)], card.code)
    assert response.status_code in (302, 303)
    (session,) = fake.sessions.values()
    assert session["amount_total"] == 700  # the jam, by bank card
    assert balance(card) == 5000 - 3600
    order = db.session.scalar(sa.select(Order))
    assert order.gift_cards_cents == 3600
    with shopper.session_transaction() as flask_session:
        notes = [message for _category, message in flask_session["_flashes"]]
    assert any("paid €36.00, only the goods it allows" in note
               and "back-to-school purchases" in note for note in notes)


def test_the_demo_payment_page_says_why_the_card_paid_only_part(client):
    books, grocer = make_shop("Librairie Solidaire"), make_shop("Épicerie du Coin")
    novel = make_product(books.organization, price_cents=1800, category_slug="books-novels")
    jam = make_product(grocer.organization, price_cents=700, category_slug="food-grocery")
    card = restricted_card(5000)
    response = checkout(client, [(novel, 1, books), (jam, 1, grocer)], card.code)
    page = client.get(response.location).get_data(as_text=True)
    assert "€7.00" in page  # what is left for the payment page
    assert "paid €18.00, only the goods it allows" in page
    assert "back-to-school purchases" in page


def test_a_gift_card_in_the_cart_is_never_paid_by_a_restricted_card(shopper, fake):
    shop = make_shop()
    notebook = make_product(shop.organization, price_cents=500, category_slug="books-school")
    card = restricted_card(5000)
    shopper.post("/cards/buy", data={"amount": "5000", "for_whom": "me"})
    response = checkout(shopper, [(notebook, 1, shop)], card.code)
    assert response.status_code in (302, 303)
    (session,) = fake.sessions.values()
    assert session["amount_total"] == 5000  # the gift card bought, by bank card
    assert balance(card) == 4500


def test_a_restricted_card_pays_before_an_unrestricted_one_whatever_their_order(shopper, fake):
    books, grocer = make_shop("Librairie Solidaire"), make_shop("Épicerie du Coin")
    novel = make_product(books.organization, price_cents=3000, category_slug="books")
    jam = make_product(grocer.organization, price_cents=2000, category_slug="food-grocery")
    everyday = make_card(3000)  # the smaller id: would pay first if ids alone decided
    school = restricted_card(3000)
    response = checkout(shopper, [(novel, 1, books), (jam, 1, grocer)],
                        f"{everyday.code} {school.code}")
    assert response.status_code == 303 and fake.calls == []  # both cards cover the 50 €
    assert balance(school) == 0 and balance(everyday) == 1000


def test_a_card_restricted_to_other_sellers_pays_only_at_them(shopper, fake):
    allowed, other = make_shop("Librairie Solidaire"), make_shop("Ressourcerie du Canal")
    at_allowed = make_product(allowed.organization, price_cents=1000, category_slug="books")
    at_other = make_product(other.organization, price_cents=1500, category_slug="books")
    card = restricted_card(5000, sellers=(allowed.organization,))
    checkout(shopper, [(at_allowed, 1, allowed), (at_other, 1, other)], card.code)
    (session,) = fake.sessions.values()
    assert session["amount_total"] == 1500 and balance(card) == 4000


def test_cards_without_a_profile_pay_as_before(shopper, fake):
    shop = make_shop()
    bread = make_product(shop.organization, price_cents=400, category_slug="food-fresh")
    card = make_card(1000)
    checkout(shopper, [(bread, 3, shop)], card.code)
    (session,) = fake.sessions.values()
    assert session["amount_total"] == 200 and balance(card) == 0
    order = db.session.scalar(sa.select(Order))
    assert payment.restriction_notes(order, [card]) == []


# --- at the counter -----------------------------------------------------------------------------

@pytest.fixture
def counter_shop(app):
    return make_seller_with_counter("Librairie Solidaire")


def category_id(slug: str) -> int:
    return get_category(slug).id


def test_the_counter_shows_the_restriction_before_the_amount_and_asks_what_is_bought(
        client, login, counter_shop):
    organization, counter, _ = counter_shop
    card = restricted_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    reason_at = html.index("back-to-school purchases")
    assert reason_at < html.index('name="amount"')
    assert 'name="category"' in html and "Books and school supplies" in html
    assert "Something else" in html
    response = pay_at_counter(client, organization, html, "12,00",
                              category=str(category_id("books")))
    assert "Paid €12.00 with the card" in response.get_data(as_text=True)
    assert balance(card) == 3800
    assert ledger.balance(organization.id) == 1200 - 60


def test_the_counter_refuses_something_else_with_the_reason_and_writes_nothing(
        client, login, counter_shop):
    organization, counter, _ = counter_shop
    card = restricted_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    before = everything_written()
    for category, status in (("0", 409), (str(category_id("food-fresh")), 409), ("", 400)):
        response = pay_at_counter(client, organization, html, "12,00", category=category)
        page = response.get_data(as_text=True)
        assert response.status_code == status
        assert "This card from your works council is for back-to-school purchases" in page
        assert 'name="amount"' in page  # the clerk can choose again
    assert everything_written() == before and balance(card) == 5000


def test_a_card_for_other_sellers_is_refused_at_once_at_the_counter(client, login, counter_shop):
    organization, counter, _ = counter_shop
    elsewhere = factories.make_organization(name="Atelier Vélo", kind=OrganizationKind.SOCIAL_ENTERPRISE)
    card = restricted_card(5000, sellers=(elsewhere,))
    login(counter)
    page = find_at_counter(client, organization, card.code)
    html = page.get_data(as_text=True)
    assert "It can be spent only at: Atelier Vélo." in html
    assert 'name="amount"' not in html  # no amount to type for a card refused here
    before = everything_written()
    with pytest.raises(cards.CardRestricted) as refused:
        cards.redeem(card.id, 1000, organization=organization, category="books")
    assert refused.value.status_code == 409 and "Atelier Vélo" in str(refused.value.message)
    assert everything_written() == before and balance(card) == 5000


def test_the_json_counter_needs_the_category_of_a_restricted_card(client, login, counter_shop):
    organization, counter, _ = counter_shop
    card = restricted_card(5000)
    login(counter)
    url = f"/orgs/{organization.id}/counter/cards/debit"
    before = everything_written()
    missing = client.post(url, json={"q": card.code, "amount_cents": 1000, "nonce": "a"})
    assert missing.status_code == 400 and missing.json["result"] == "invalid"
    assert "Choose what is being bought" in missing.json["message"]
    assert missing.json["allowed_categories"] == ["clothing", "books", "culture"]
    food = client.post(url, json={"q": card.code, "amount_cents": 1000, "nonce": "b",
                                  "category": "food-fresh"})
    assert food.status_code == 409 and food.json["result"] == "refused"
    assert food.json["message"].startswith("This card from your works council is for "
                                           "back-to-school purchases")
    unknown = client.post(url, json={"q": card.code, "amount_cents": 1000, "nonce": "c",
                                     "category": "spaceships"})
    assert unknown.status_code == 409
    assert everything_written() == before and balance(card) == 5000
    ok = client.post(url, json={"q": card.code, "amount_cents": 1000, "nonce": "d",
                                "category": "books-school"})
    assert ok.status_code == 200 and ok.json["balance_cents"] == 4000


def test_the_json_counter_refuses_a_card_for_other_sellers(client, login, counter_shop):
    organization, counter, _ = counter_shop
    elsewhere = factories.make_organization(name="Atelier Vélo", kind=OrganizationKind.SOCIAL_ENTERPRISE)
    card = restricted_card(5000, sellers=(elsewhere,))
    login(counter)
    refused = client.post(f"/orgs/{organization.id}/counter/cards/debit", json={
        "q": card.code, "amount_cents": 1000, "nonce": "a", "category": "books"})
    assert refused.status_code == 409 and refused.json["allowed_sellers"] == ["Atelier Vélo"]
    assert "It can be spent only at: Atelier Vélo." in refused.json["message"]
    assert balance(card) == 5000


def test_an_unrestricted_card_at_the_counter_needs_no_category(client, login, counter_shop):
    organization, counter, _ = counter_shop
    card = make_card(5000)
    login(counter)
    html = find_at_counter(client, organization, card.code).get_data(as_text=True)
    assert 'name="category"' not in html and "works council" not in html
    assert "Paid €10.00" in pay_at_counter(client, organization, html, "10").get_data(as_text=True)
    debit = client.post(f"/orgs/{organization.id}/counter/cards/debit", json={
        "q": card.code, "amount_cents": 500, "nonce": "x", "category": "food"})
    assert debit.status_code == 200 and balance(card) == 3500


def test_the_card_page_says_where_it_can_be_spent(client):
    card = restricted_card(5000)
    html = client.get(f"/cards/{card.code}").get_data(as_text=True)
    assert "This card from your works council is for back-to-school purchases" in html
    assert "Spend it at any seller of the network" not in html


def test_the_printed_card_says_where_it_can_be_spent(client, app):
    import io

    import pypdfium2

    from tests.vouchers.helpers import decode_image

    card = restricted_card(5000)
    data = client.get(f"/cards/{card.code}/card.pdf").data
    page = pypdfium2.PdfDocument(io.BytesIO(data))[0]
    text = " ".join(page.get_textpage().get_text_range().split())
    assert "back-to-school purchases: clothing and accessories, books and school supplies" in text
    assert "any seller" not in text
    assert decode_image(page.render(scale=3).to_pil()) == [
        f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"]


def test_the_holders_list_of_cards_says_where_each_can_be_spent(client, login):
    holder = factories.make_user(email="camille@textiles.example", locale="en")
    card, other = restricted_card(5000), make_card(2000)
    card.holder_user_id = other.holder_user_id = holder.id
    login(holder)
    html = client.get("/account/cards").get_data(as_text=True)
    assert html.count("This card from your works council") == 1
    assert "back-to-school purchases" in html and other.display_code in html


@pytest.mark.parametrize("chained", [False, pytest.param(True, marks=pytest.mark.postgres)])
def test_the_counter_debit_applies_the_rule_both_ways(app, chained):
    organization, counter, _ = make_seller_with_counter("Librairie Solidaire")
    card = restricted_card(5000)
    now = utcnow()
    with app.test_request_context():
        with pytest.raises(cards.CardRestricted):
            cards.redeem(card.id, 1000, organization=organization, category="toys", now=now,
                         chained=chained)
        with pytest.raises(cards.CardRestricted) as unsaid:
            cards.redeem(card.id, 1000, organization=organization, now=now, chained=chained)
        assert unsaid.value.status_code == 400
        move = cards.redeem(card.id, 1000, organization=organization, category="clothing-shoes",
                            by=counter, now=now, chained=chained)
    assert move.transaction.balance_after_cents == 4000 and balance(card) == 4000
