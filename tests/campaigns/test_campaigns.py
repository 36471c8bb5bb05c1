"""Campaigns: what a works council may create, and the states a campaign goes through."""
from datetime import date

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.campaigns import services
from marketplace.campaigns.models import AmountMode, CampaignEvent, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.db import db

ROW = {"last_name": "Martin", "first_name": "Léa", "email": "lea@example.org",
       "employee_number": "M1", "children": 0, "amount_cents": 5000, "line": 2}


def test_a_campaign_is_created_as_a_draft_with_its_restriction_profile(make_campaign):
    campaign = make_campaign(event=CampaignEvent.BACK_TO_SCHOOL)

    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.restriction_profile.category_slugs == {"books", "clothing", "culture"}
    assert campaign.restriction_profile.event == CampaignEvent.BACK_TO_SCHOOL
    assert db.session.query(AuditEntry).filter_by(action="campaign.created").count() == 1


def test_only_a_works_council_runs_campaigns(make_campaign, make_organization):
    seller = make_organization()
    with pytest.raises(CampaignError):
        make_campaign(organization=seller)


@pytest.mark.parametrize(("changes", "field"), [
    ({"categories": {"books", "food"}}, "categories"),
    ({"categories": {"food-grocery"}}, "categories"),
    ({"categories": None}, "categories"),  # an event card must be limited to linked goods
    ({"year": 2031}, "year"),  # no PMSS known for that year
    ({"amount_cents": 100001}, "amount"),  # above CAMPAIGN_CARD_MAX_CENTS
    ({"send_on": date(2027, 1, 5)}, "send_on"),  # not in the campaign's year
])
def test_refused_settings_name_their_field(make_campaign, changes, field):
    with pytest.raises(CampaignError) as error:
        make_campaign(**changes)
    assert error.value.field == field


def test_validity_is_twelve_months_at_least(cse, officer):
    settings = services.CampaignSettings(
        name="Noël", event=CampaignEvent.NONE, year=2026, send_on=date(2026, 12, 10),
        validity_months=6, amount_mode=AmountMode.SAME, amount_cents=5000,
        unspent_policy="platform")
    with pytest.raises(CampaignError) as error:
        services.create_campaign(cse, settings, by=officer, today=date(2026, 1, 1))
    assert error.value.field == "validity_months"


def test_a_campaign_without_event_may_allow_everything_even_food(make_campaign):
    assert make_campaign(event=CampaignEvent.NONE, categories=None).restriction_profile is None
    food = make_campaign(event=CampaignEvent.NONE, categories={"food", "books"})
    assert food.restriction_profile.category_slugs == {"food", "books"}


def test_the_state_machine_goes_forward_and_refuses_illegal_moves(make_campaign, officer):
    campaign = make_campaign()
    with pytest.raises(CampaignError):
        services.mark_paid(campaign, by=officer)  # a draft is not paid
    with pytest.raises(CampaignError):
        services.mark_quoted(campaign, by=officer)  # no beneficiary yet

    services.replace_beneficiaries(campaign, [ROW], by=officer, filename="liste.csv")
    assert campaign.status == CampaignStatus.BENEFICIARIES_IMPORTED
    services.mark_quoted(campaign, by=officer)
    services.withdraw_quote(campaign, by=officer)
    assert campaign.status == CampaignStatus.BENEFICIARIES_IMPORTED
    services.mark_quoted(campaign, by=officer)
    with pytest.raises(CampaignError):
        services.mark_issued(campaign, by=officer)  # not paid yet
    with pytest.raises(CampaignError):
        services.replace_beneficiaries(campaign, [ROW], by=officer, filename="x.csv")
    services.mark_paid(campaign, by=officer)
    with pytest.raises(CampaignError):
        services.cancel(campaign, by=officer)  # paid: a refund, not a cancellation
    services.mark_issued(campaign, by=officer)
    assert campaign.status == CampaignStatus.ISSUED
    moves = [(e.data["from"], e.data["to"]) for e in db.session.query(AuditEntry)
             .filter_by(action="campaign.moved").order_by(AuditEntry.id)]
    assert moves == [("draft", "beneficiaries_imported"), ("beneficiaries_imported", "quoted"),
                     ("quoted", "beneficiaries_imported"), ("beneficiaries_imported", "quoted"),
                     ("quoted", "paid"), ("paid", "issued")]


def test_a_cancelled_campaign_stays_cancelled(make_campaign, officer):
    campaign = make_campaign()
    services.cancel(campaign, by=officer, reason="Doublon")
    assert campaign.status == CampaignStatus.CANCELLED and campaign.cancel_reason == "Doublon"
    for move in (services.mark_quoted, services.mark_paid, services.cancel):
        with pytest.raises(CampaignError):
            move(campaign, by=officer)


def test_totals_and_same_amount_follow_the_campaign(make_campaign, officer):
    campaign = make_campaign(amount_cents=5000)
    services.replace_beneficiaries(campaign, [ROW, {**ROW, "email": "b@example.org",
                                                    "employee_number": "M2", "line": 3}],
                                   by=officer, filename="liste.csv")
    assert services.totals(campaign) == (2, 10000)

    settings = services.CampaignSettings(
        name="Noël", event=CampaignEvent.CHRISTMAS, year=2026, send_on=date(2026, 12, 10),
        validity_months=18, amount_mode=AmountMode.SAME, amount_cents=7000,
        unspent_policy="credit", category_slugs={"toys"})
    services.update_campaign(campaign, settings, by=officer, today=date(2026, 1, 1))
    assert services.totals(campaign) == (2, 14000)
    assert campaign.restriction_profile.category_slugs == {"toys"}
