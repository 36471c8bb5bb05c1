"""'Where to spend' on the employee's card page (giftcards.where): only the sellers and products
the card's restriction allows, searched by postcode or town, the same postcode first, then the
same department, then the rest, click-and-collect first within each; bad input never a 500."""
from __future__ import annotations

import re

import pytest

from marketplace.db import db
from marketplace.giftcards import restrictions, where
from marketplace.giftcards.models import GiftCard
from marketplace.pickup.models import PickupLocation
from tests import factories
from tests.campaigns.helpers import issued_campaign


def seller(name, postcode, town, *, pickup=False, products=(("Livre", "books"),)):
    organization = factories.make_organization(name=name, postcode=postcode, town=town)
    for title, slug in products:
        factories.make_product(organization, title=f"{title} de {name}", category_slug=slug)
    if pickup:
        db.session.add(PickupLocation(organization=organization, name="Boutique",
                                      address_line="1 rue A", postcode=postcode, town=town))
    db.session.flush()
    return organization


@pytest.fixture
def shops(app):
    """Sellers of books (allowed) around Lyon 3e and elsewhere, and one of toys only."""
    return {
        "far": seller("Aaa Livres Lille", "59000", "Lille", pickup=True),
        "dept": seller("Bouquins Villeurbanne", "69100", "Villeurbanne"),
        "dept_click": seller("Pages Vénissieux", "69200", "Vénissieux", pickup=True),
        "same": seller("Zèbre Librairie", "69003", "Lyon"),
        "same_click": seller("Yoyo Lecture", "69003", "Lyon", pickup=True),
        "toys": seller("Jouets Lyon", "69003", "Lyon", pickup=True,
                       products=(("Toupie", "toys"),)),
    }


@pytest.fixture
def card(app, make_campaign, officer, shops):
    campaign = make_campaign(name="Rentrée", categories={"books"}, event="back_to_school")
    db.session.commit()
    issued_campaign(campaign, count=1)
    return db.session.query(GiftCard).filter(GiftCard.holder_email.is_not(None)).one()


def names(found):
    return [place.name for place in found]


def test_the_same_postcode_then_the_department_then_the_rest_click_and_collect_first(card):
    restriction = restrictions.of_card(card)
    found = where.places(restriction, where.read_near("69003"))
    assert names(found) == ["Yoyo Lecture", "Zèbre Librairie", "Pages Vénissieux",
                            "Bouquins Villeurbanne", "Aaa Livres Lille"]
    assert [p.rank for p in found] == [0, 0, 1, 1, 2]
    assert [p.click_and_collect for p in found] == [True, False, True, False, True]
    assert found[0].products[0][1] == "Livre de Yoyo Lecture"  # only products it pays for


def test_a_town_is_read_as_its_postcode_accents_and_case_ignored(card):
    near = where.read_near("  VENISSIEUX ")
    assert (near.postcode, near.department, near.unknown) == ("69200", "69", False)
    found = where.places(restrictions.of_card(card), near)
    assert names(found) == ["Pages Vénissieux", "Yoyo Lecture", "Bouquins Villeurbanne",
                            "Zèbre Librairie", "Aaa Livres Lille"]
    assert [p.rank for p in found] == [0, 1, 1, 1, 2]
    assert where.read_near("Atlantis").unknown
    assert where.read_near("69").department == "69" and where.read_near("97411").department == "974"


def test_without_a_place_click_and_collect_comes_first(card):
    found = where.places(restrictions.of_card(card), where.read_near(""))
    assert names(found) == ["Aaa Livres Lille", "Pages Vénissieux", "Yoyo Lecture",
                            "Bouquins Villeurbanne", "Zèbre Librairie"]


def test_a_profile_that_names_sellers_lists_only_them(card, shops):
    restriction = restrictions.of_card(card)
    named = restrictions.Restriction(restriction.profile_id, restriction.event,
                                     restriction.categories,
                                     ((shops["dept"].id, shops["dept"].name),))
    assert names(where.places(named, where.read_near("69003"))) == ["Bouquins Villeurbanne"]


def test_an_unrestricted_card_lists_every_seller_with_something_on_sale(shops):
    assert "Jouets Lyon" in names(where.places(None, where.read_near("69003")))


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
                    .replace("&#39;", "'").replace("&#34;", '"').split())


def test_the_card_page_lists_them_and_searches_by_place(client, card):
    page = _text(client.get(f"/cards/{card.code}?near=69003"))
    page = page[page.index("Where to spend it"):page.index("What your works council sees")]
    assert page.index("Yoyo Lecture") < page.index("Zèbre Librairie") \
        < page.index("Pages Vénissieux") < page.index("Aaa Livres Lille")
    assert "Jouets Lyon" not in page and "Toupie" not in page
    assert "Click-and-collect" in page and "At the counter" in page and "same postcode" in page
    page = _text(client.get(f"/cards/{card.code}?near=Atlantis"))
    assert "We know no seller in “Atlantis”" in page
    for bad in ("x" * 5000, "<script>", "%00", "69003' OR 1=1"):
        assert client.get(f"/cards/{card.code}", query_string={"near": bad}).status_code == 200


def test_a_spent_card_lists_no_seller(client, card):
    card.balance_cents = 0
    db.session.commit()
    page = _text(client.get(f"/cards/{card.code}"))
    assert "Yoyo Lecture" not in page



def test_the_card_page_and_its_pdf_say_the_campaign_s_rules(client, card):
    from tests.invoicing.helpers import pdf_text

    page = _text(client.get(f"/cards/{card.code}"))
    assert "Offered by CSE Textiles" in page and "For: Back to school" in page
    assert "Left unspent at expiry: Back to the works council, as a credit for its next " \
        "campaign" in page
    text = " ".join(pdf_text(client.get(f"/cards/{card.code}/card.pdf").data).split())
    assert "Offered by CSE Textiles" in text


def test_a_card_bought_on_the_site_has_no_campaign_lines(client):
    from tests.giftcards.helpers import make_card

    card = make_card(3000)
    assert "Offered by" not in _text(client.get(f"/cards/{card.code}"))
