"""At expiry, each campaign's unspent-value policy: given to the association it chose (with
the ledger entry), credited to the works council for its next campaign, or kept; then the
campaign is closed once and its managers get the report."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.campaigns import closing
from marketplace.campaigns.models import Beneficiary, CampaignCredit, UnspentPolicy
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard
from marketplace.ledger import services as ledger
from tests.campaigns.helpers import issued_campaign
from tests.factories import make_organization

AFTER_EXPIRY = datetime(2027, 12, 11, 6, tzinfo=UTC)


def _campaign(make_campaign, policy, association=None):
    campaign = make_campaign(send_on=date(2026, 12, 10))
    campaign.unspent_policy = policy
    campaign.unspent_association_id = association.id if association else None
    db.session.commit()
    issued_campaign(campaign, count=2)
    shop = make_organization(name="Ressourcerie")
    first = db.session.query(Beneficiary).filter_by(campaign_id=campaign.id, line=2).one()
    with uow.unit():
        cards.redeem(first.card_id, 2000, organization=shop, category="toys")
    return campaign


def _expire():
    with uow.unit():
        cards.expire_due(now=AFTER_EXPIRY)
        return closing.close_finished(now=AFTER_EXPIRY)


def test_back_to_the_works_council_as_a_credit(app, make_campaign, outbox):
    campaign = _campaign(make_campaign, UnspentPolicy.CREDIT)
    assert _expire() == 1
    assert closing.credit_of(campaign.organization_id) == 3000 + 5000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignCredit)) == 2
    (report,) = outbox
    assert report.to == ["nadia@cse-exemple.fr"]
    assert "Spent at sellers: €20.00" in report.body
    assert "Left at expiry: €80.00" in report.body
    assert "Credited to your works council for its next campaign: €80.00" in report.body
    assert _expire() == 0  # closed once


def test_given_to_the_association_the_works_council_chose(app, make_campaign, outbox):
    association = make_organization(name="Secours Solidaire")
    campaign = _campaign(make_campaign, UnspentPolicy.ASSOCIATION, association)
    for beneficiary in db.session.query(Beneficiary).filter_by(campaign_id=campaign.id):
        beneficiary.card.expiry_association_id = association.id  # as issuance sets it
    db.session.commit()
    _expire()
    assert closing.credit_of(campaign.organization_id) == 0
    assert ledger.balance(association.id) > 0  # the donation, less nothing: credited
    assert db.session.scalar(sa.select(sa.func.sum(GiftCard.balance_cents))) == 0
    assert "(Secours Solidaire)" in outbox[0].body


@pytest.mark.parametrize("policy", [UnspentPolicy.PLATFORM])
def test_kept_by_the_platform(app, make_campaign, outbox, policy, monkeypatch):
    app.config["GIFTCARD_EXPIRY_POLICY"] = "donate"  # the platform's setting for other cards
    campaign = _campaign(make_campaign, policy)
    _expire()
    assert closing.credit_of(campaign.organization_id) == 0
    assert "Left at expiry: €80.00" in outbox[0].body and "Kept by the platform" in outbox[0].body


def test_not_closed_while_a_card_is_valid(app, make_campaign, outbox):
    _campaign(make_campaign, UnspentPolicy.CREDIT)
    with uow.unit():
        assert closing.close_finished(now=datetime(2027, 6, 1, tzinfo=UTC)) == 0
    assert outbox == []
