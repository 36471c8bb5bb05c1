"""A campaign brought to "cards issued" for the tests of what follows issuance (sending,
printing): beneficiaries employee0@example.org... on lines 2, 3..., each with a named card."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from marketplace import uow
from marketplace.campaigns import services
from marketplace.campaigns.models import Beneficiary, CampaignStatus
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.services import add_months


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
