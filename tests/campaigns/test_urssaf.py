"""The URSSAF check: the yearly 5 % of the PMSS first, then the event's limit and use, per
employee across the works council's campaigns of the year; the whole voucher at risk."""
from datetime import date

import pypdfium2
import pytest
from flask_babel import force_locale

from marketplace.audit.models import AuditEntry
from marketplace.campaigns import compliance, services, urssaf
from marketplace.campaigns.models import AmountMode, CampaignEvent
from marketplace.catalog.models import Category
from marketplace.db import db


def person(n, *, amount, email=None, number="auto", children=0, line=None):
    return {"last_name": f"Nom{n}", "first_name": f"Prénom{n}",
            "email": email or f"salarie{n}@example.fr",
            "employee_number": f"E{n}" if number == "auto" else number,
            "children": children, "amount_cents": amount, "line": line or n + 1}


def with_people(campaign, officer, *people):
    services.replace_beneficiaries(campaign, list(people), by=officer, filename="liste.csv")
    return urssaf.check_campaign(campaign)


def only(check):
    (line,) = check.lines
    return line


def per_person_campaign(make_campaign, **kwargs):
    return make_campaign(mode=AmountMode.PER_BENEFICIARY, **kwargs)


def test_the_yearly_thresholds_come_from_the_pmss_table(app):
    assert urssaf.threshold_cents(2024) == 19320
    assert urssaf.threshold_cents(2025) == 19625
    assert urssaf.threshold_cents(2026) == 20025


@pytest.mark.parametrize(("year", "within", "above"), [(2025, 19625, 19626),
                                                       (2026, 20025, 20026)])
def test_within_5_percent_of_the_pmss_anything_goes(make_campaign, officer, year, within, above):
    campaign = per_person_campaign(make_campaign, event=CampaignEvent.NONE, year=year,
                                   categories=None)
    line = only(with_people(campaign, officer, person(1, amount=within)))
    assert line.exempt and line.rule == urssaf.YEARLY and line.limit_cents == within

    line = only(with_people(campaign, officer, person(1, amount=above)))
    assert not line.exempt and line.reasons == [urssaf.NO_EVENT]
    assert line.at_risk_cents == above  # the whole voucher, not the 0,01 € above


def test_2025_christmas_above_the_employee_s_own_limit(make_campaign, officer):
    campaign = per_person_campaign(make_campaign, year=2025)
    check = with_people(campaign, officer, person(1, amount=19626), person(2, amount=19625))
    first, second = check.lines
    assert first.reasons == [urssaf.EVENT_LIMIT] and first.at_risk_cents == 19626
    assert second.exempt and second.rule == urssaf.YEARLY
    assert check.at_risk_cents == 19626 and check.lines_at_risk == 1


def test_christmas_counts_each_child_up_to_16(make_campaign, officer):
    campaign = per_person_campaign(make_campaign, year=2026)
    check = with_people(campaign, officer,
                        person(1, amount=50000, children=2),  # limit 3 x 200,25 = 600,75
                        person(2, amount=50000, children=1),  # limit 400,50: all 500 at risk
                        person(3, amount=60075, children=2),
                        person(4, amount=60076, children=2))
    one, two, three, four = check.lines
    assert one.exempt and one.rule == urssaf.EVENT and one.limit_cents == 60075
    assert two.reasons == [urssaf.EVENT_LIMIT] and two.at_risk_cents == 50000
    assert two.limit_cents == 40050
    assert three.exempt
    assert four.at_risk_cents == 60076
    assert check.at_risk_cents == 110076


def test_the_yearly_total_runs_across_two_campaigns(make_campaign, officer):
    mothers = per_person_campaign(make_campaign, event=CampaignEvent.MOTHERS_DAY,
                                  send_on=date(2026, 5, 29), name="Fête des mères")
    bonus = per_person_campaign(make_campaign, event=CampaignEvent.NONE, categories=None,
                                send_on=date(2026, 6, 30), name="Prime")
    christmas = per_person_campaign(make_campaign, name="Noël")
    with_people(mothers, officer, person(1, amount=10000),
                # the same employee, known by email only in the other campaign
                person(2, amount=10000, number=None, email="Zoe@Example.fr"))
    with_people(bonus, officer, person(3, amount=5000))
    check = with_people(christmas, officer,
                        person(1, amount=15000, email="another-address@example.fr"),
                        person(2, amount=5000, number="Z9", email="zoe@example.fr"),
                        person(3, amount=18000),
                        person(4, amount=20000))
    one, two, three, four = check.lines
    # Employee 1 (matched by number): 100 + 150 = 250 € > 200,25 €, but each voucher is tied
    # to its event and within its limit.
    assert one.year_total_cents == 25000 and one.running_total_cents == 25000
    assert one.exempt and one.rule == urssaf.EVENT
    # Employee 2 (matched by email): 100 + 50 = 150 €, within the year's 5 %.
    assert two.year_total_cents == 15000 and two.exempt and two.rule == urssaf.YEARLY
    # Employee 3: the bonus without event (50 €) and Christmas (180 €) pass 200,25 € together:
    # Christmas is fine, but the bonus is now reassessed, whole.
    assert three.year_total_cents == 23000
    assert three.at_risk_cents == 0 and three.other_at_risk_cents == 5000
    # Employee 4: only this campaign, within the year's 5 %.
    assert four.exempt and four.year_total_cents == 20000
    assert check.at_risk_cents == 5000 and check.lines_at_risk == 1

    # The mother's day campaign sees Christmas too, running total in sending order.
    (first, _second) = urssaf.check_campaign(mothers).lines
    assert first.running_total_cents == 10000 and first.year_total_cents == 25000

    services.cancel(bonus, by=officer)  # a cancelled campaign no longer counts
    assert urssaf.check_campaign(christmas).at_risk_cents == 0


def test_back_to_school_without_a_child_fails(make_campaign, officer):
    campaign = per_person_campaign(make_campaign, event=CampaignEvent.BACK_TO_SCHOOL,
                                   send_on=date(2026, 12, 10))
    check = with_people(campaign, officer, person(1, amount=30000, children=0),
                        person(2, amount=30000, children=2))
    none, two = check.lines
    assert none.reasons == [urssaf.NO_CHILD] and none.at_risk_cents == 30000
    assert two.exempt and two.limit_cents == 40050


def test_an_event_card_that_may_buy_everyday_food_fails(make_campaign, officer):
    campaign = per_person_campaign(make_campaign)
    profile = campaign.restriction_profile
    # A profile changed behind the form's back (the service refuses food on an event card).
    profile.categories = [*profile.categories,
                          db.session.query(Category).filter_by(slug="food-grocery").one()]
    db.session.flush()
    # 250 € for an employee with a child: within the Christmas limit (400,50 €), above 5 %.
    line = only(with_people(campaign, officer, person(1, amount=25000, children=1)))
    assert line.reasons == [urssaf.USE_NOT_LINKED] and line.at_risk_cents == 25000

    campaign.restriction_profile = None  # a card that can buy anything
    db.session.flush()
    line = only(urssaf.check_campaign(campaign))
    assert line.reasons == [urssaf.USE_NOT_LINKED]
    # Within the year's 5 %, the use does not matter.
    line = only(with_people(campaign, officer, person(1, amount=20000, children=1)))
    assert line.exempt


def test_the_manager_proceeds_knowingly_and_it_is_recorded(make_campaign, officer):
    campaign = per_person_campaign(make_campaign, event=CampaignEvent.NONE, categories=None)
    with_people(campaign, officer, person(1, amount=30000))
    assert services.ready_for_quote(campaign)  # the risk is not accepted yet
    with pytest.raises(services.CampaignError):
        services.mark_quoted(campaign, by=officer)

    services.acknowledge_risk(campaign, by=officer)
    assert campaign.risk_acknowledged_by_id == officer.id
    assert campaign.risk_acknowledged_cents == 30000
    entry = db.session.query(AuditEntry).filter_by(action="campaign.risk_acknowledged").one()
    assert entry.data["at_risk_cents"] == 30000 and entry.actor_id == officer.id
    assert services.ready_for_quote(campaign) == []

    # Another list, another amount at risk: the statement must be made again.
    with_people(campaign, officer, person(1, amount=40000))
    assert campaign.risk_acknowledged_at is None and services.ready_for_quote(campaign)


def test_the_compliance_file_in_french_excel_csv(make_campaign, officer, app):
    campaign = per_person_campaign(make_campaign)
    check = with_people(campaign, officer, person(1, amount=4550, children=1),
                        person(2, amount=30000, number=None))
    with force_locale("fr"):
        text = compliance.compliance_csv(check)
    assert text.startswith("\ufeffLigne;Nom;Prénom;E-mail;Matricule;Enfants;Montant;")
    lines = text.split("\r\n")
    assert lines[1].split(";")[6:8] == ["45,50", "45,50"]
    assert "Au-dessus du plafond de l'événement" in lines[2]
    assert lines[2].endswith(";300,00")


def test_the_compliance_file_as_pdf(make_campaign, officer, app):
    campaign = per_person_campaign(make_campaign)
    check = with_people(campaign, officer, person(1, amount=4550), person(2, amount=30000))
    with force_locale("fr"):
        data = compliance.compliance_pdf(check, site_name="ESS Marché")
    pdf = pypdfium2.PdfDocument(data)
    text = pdf[0].get_textpage().get_text_range()
    assert "Nom1 Prénom1" in text and "CSE Textiles" in text
    assert "200,25" in text and "55210055400013" in text
