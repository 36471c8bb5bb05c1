"""Campaigns for the tests outside their own: one brought to "cards issued" for what follows
issuance (sending, printing: beneficiaries employee0@example.org... on lines 2, 3..., each with a
named card), and a works council with a paid campaign whose cards the issuance is to issue (the
browser, the workers)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from marketplace import uow
from marketplace.campaigns import services
from marketplace.campaigns.models import (
    AmountMode,
    Beneficiary,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    UnspentPolicy,
)
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.services import add_months
from marketplace.organizations.models import OrganizationKind
from tests import factories


def beneficiary_rows(count: int, *, amount_cents: int = 5000) -> list[dict]:
    return [{"line": n + 2, "last_name": f"Nom{n}", "first_name": f"Prénom{n}",
             "email": f"employee{n}@example.org", "employee_number": f"M{n:05d}",
             "children": 0, "amount_cents": amount_cents} for n in range(count)]


def issued_campaign(campaign, *, count: int):
    officer = campaign.created_by
    with uow.unit():
        services.replace_beneficiaries(campaign, beneficiary_rows(count, amount_cents=(
            campaign.amount_cents or 5000)), by=officer, filename="salaries.csv")
        for status in (CampaignStatus.QUOTED, CampaignStatus.PAID):
            services.move(campaign, status, by=officer)
        for beneficiary in db.session.scalars(sa.select(Beneficiary).where(
                Beneficiary.campaign_id == campaign.id)):
            card = cards.issue(beneficiary.amount_cents, locale="fr")
            start = datetime(campaign.send_on.year, campaign.send_on.month, campaign.send_on.day,
                             tzinfo=UTC)
            card.expires_at = add_months(start, campaign.validity_months)
            card.holder_name = beneficiary.full_name
            card.holder_email = beneficiary.email
            card.restriction_profile_id = campaign.restriction_profile_id
            beneficiary.card_id = card.id
        services.move(campaign, CampaignStatus.ISSUED, by=officer)
    return campaign


def works_council(email: str = "nadia@cse-exemple.fr"):
    """(officer, works council): its owner speaks English."""
    officer = factories.make_user(email=email, locale="en")
    cse = factories.make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=officer,
                                      siret="55210055400013")
    return officer, cse


def paid_campaign(officer, cse, n: int, *, amount_cents: int = 5000) -> Campaign:
    """A Christmas campaign of `n` beneficiaries, quoted and paid (not committed): its issuance
    job is queued for after the next unit of work's commit."""
    settings = services.CampaignSettings(
        name="Noël 2026", event=CampaignEvent.CHRISTMAS, year=2026, send_on=date(2026, 12, 15),
        validity_months=12, amount_mode=AmountMode.SAME, amount_cents=amount_cents,
        unspent_policy=UnspentPolicy.CREDIT, category_slugs={"toys", "books"})
    campaign = services.create_campaign(cse, settings, by=officer, today=date(2026, 1, 1))
    services.replace_beneficiaries(campaign, [
        {"last_name": f"Martin{i}", "first_name": "Léa", "email": f"lea.{i}@example.org",
         "employee_number": f"M{i}", "children": 0, "amount_cents": amount_cents, "line": i + 2}
        for i in range(n)], by=officer, filename="salaries.csv")
    services.mark_quoted(campaign, by=officer)
    services.mark_paid(campaign, by=officer)
    return campaign
