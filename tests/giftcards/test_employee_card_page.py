"""The employee's card page (from the email or the QR code): where to spend it, searchable by
place, limited to what the card allows; and the choice to let the works council see the
balance, off by default."""
from __future__ import annotations

from datetime import date

import pytest

from marketplace.db import db
from marketplace.giftcards.models import GiftCard
from tests.campaigns.helpers import issued_campaign
from tests.giftcards.helpers import make_card


@pytest.fixture
def employee_card(app, make_organization, make_user):
    from marketplace.campaigns import services
    from marketplace.campaigns.models import AmountMode, CampaignEvent, UnspentPolicy
    from marketplace.organizations.models import OrganizationKind

    officer = make_user(email="rh@cse.fr", name="Nadia")
    cse = make_organization(name="CSE Textiles", kind=OrganizationKind.WORKS_COUNCIL, owner=officer,
                            siret="55210055400013")
    campaign = services.create_campaign(cse, services.CampaignSettings(
        name="Rentrée", event=CampaignEvent.BACK_TO_SCHOOL, year=2026, send_on=date(2026, 12, 10),
        validity_months=12, amount_mode=AmountMode.SAME, amount_cents=5000,
        unspent_policy=UnspentPolicy.CREDIT, category_slugs={"books", "clothing"}),
        by=officer, today=date(2026, 1, 1))
    db.session.commit()
    issued_campaign(campaign, count=1)
    return db.session.query(GiftCard).filter(GiftCard.holder_email.is_not(None)).one()


def test_where_to_spend_lists_only_what_the_card_allows(client, employee_card):
    html = client.get(f"/cards/{employee_card.code}").get_data(as_text=True)
    assert "Where to spend it" in html and 'action="/products"' in html
    assert 'name="near"' in html  # the place search (tests/campaigns/test_where_to_spend.py)
    options = html[html.index('id="where-category"'):html.index("</select>", html.index('id="where-category"'))]
    assert 'value="books"' in options and 'value="clothing"' in options
    assert 'value="toys"' not in options and 'value="food"' not in options


def test_an_anonymous_card_may_be_spent_in_every_category(client):
    card = make_card(3000)
    html = client.get(f"/cards/{card.code}").get_data(as_text=True)
    options = html[html.index('id="where-category"'):html.index("</select>", html.index('id="where-category"'))]
    assert 'value="toys"' in options and 'value="books"' in options
    assert "What your works council sees" not in html


def test_the_balance_is_not_shared_until_the_holder_says_so(client, employee_card):
    html = client.get(f"/cards/{employee_card.code}").get_data(as_text=True)
    assert "sees only totals for all its employees" in html
    assert employee_card.balance_shared_at is None

    answer = client.post(f"/cards/{employee_card.code}/share", data={"share": "yes"})
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(GiftCard, employee_card.id).balance_shared_at is not None
    html = client.get(f"/cards/{employee_card.code}").get_data(as_text=True)
    assert "can see this card's balance and history" in html

    client.post(f"/cards/{employee_card.code}/share", data={"share": "no"})
    db.session.expire_all()
    assert db.session.get(GiftCard, employee_card.id).balance_shared_at is None


def test_sharing_is_for_named_cards_and_a_bad_answer_is_a_400(client, employee_card):
    assert client.post(f"/cards/{employee_card.code}/share", data={"share": "maybe"}).status_code == 400
    card = make_card(3000)
    assert client.post(f"/cards/{card.code}/share", data={"share": "yes"}).status_code == 400
    assert client.post("/cards/AAAABBBBCCCCDDDD/share", data={"share": "yes"}).status_code == 404
