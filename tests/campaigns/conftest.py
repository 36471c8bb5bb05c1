"""Fixtures of the campaign tests: a works council with its owner, and campaigns made through
the service."""
from __future__ import annotations

from datetime import date

import pytest

from marketplace.campaigns import services
from marketplace.campaigns.models import AmountMode, CampaignEvent, UnspentPolicy
from marketplace.organizations.models import OrganizationKind


@pytest.fixture
def officer(make_user):
    return make_user(name="Nadia Benali", email="nadia@cse-exemple.fr", locale="en")


@pytest.fixture
def cse(make_organization, officer):
    return make_organization(name="CSE Textiles", kind=OrganizationKind.WORKS_COUNCIL,
                             owner=officer, siret="55210055400013")


@pytest.fixture
def make_campaign(cse, officer):
    def build(*, organization=None, event=CampaignEvent.CHRISTMAS, year=2026,
              send_on=None, amount_cents=5000, mode=AmountMode.SAME, categories="suggested",
              name="Noël", **extra):
        if categories == "suggested":
            from marketplace.campaigns.restrictions import SUGGESTED_CATEGORIES

            categories = set(SUGGESTED_CATEGORIES.get(CampaignEvent(event), ())) or None
        settings = services.CampaignSettings(
            name=name, event=CampaignEvent(event), year=year,
            send_on=send_on or date(year, 12, 10), validity_months=12, amount_mode=mode,
            amount_cents=amount_cents if mode == AmountMode.SAME else None,
            unspent_policy=UnspentPolicy.CREDIT, category_slugs=categories, **extra)
        return services.create_campaign(organization or cse, settings, by=officer,
                                        today=date(year, 1, 1))

    return build

