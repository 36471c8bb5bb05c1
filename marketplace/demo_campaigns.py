"""Demo data of the works council: a Christmas campaign whose 30 employees are imported, two of
them above the URSSAF limits, and a paid campaign of 12 cards (quote, pro-forma, transfer
recorded by the admin; its cards are issued by the campaign_paid signal's receiver, the
issuance). Safe to run twice."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from marketplace.campaigns import billing, services
from marketplace.campaigns.models import AmountMode, Campaign, CampaignEvent, UnspentPolicy
from marketplace.campaigns.restrictions import SUGGESTED_CATEGORIES
from marketplace.db import db
from marketplace.i18n import local_today
from marketplace.invoicing import transfers
from marketplace.invoicing.references import printed
from marketplace.organizations.models import Organization

FIRST = ["Léa", "Hugo", "Chloé", "Nathan", "Inès", "Lucas", "Manon", "Théo", "Camille", "Noé"]
LAST = ["Girard", "Lefèvre", "Nguyen", "Bernard", "Da Silva", "Moreau", "Benali", "Faure"]


def seed_campaigns(organization_slug: str, officer, admin=None) -> int:
    """The campaigns, if the works council has none and this year's URSSAF limits are known."""
    cse = db.session.scalar(sa.select(Organization).where(Organization.slug == organization_slug))
    if cse is None or db.session.scalar(
            sa.select(Campaign.id).where(Campaign.organization_id == cse.id).limit(1)):
        return 0
    today = local_today()
    send_on = max(date(today.year, 12, 15), today + timedelta(days=7))
    if services.pmss_cents(send_on.year) is None:
        return 0
    settings = services.CampaignSettings(
        name=f"Noël {send_on.year}", event=CampaignEvent.CHRISTMAS, year=send_on.year,
        send_on=send_on, validity_months=12, amount_mode=AmountMode.PER_BENEFICIARY,
        amount_cents=None, unspent_policy=UnspentPolicy.CREDIT,
        category_slugs=set(SUGGESTED_CATEGORIES[CampaignEvent.CHRISTMAS]))
    campaign = services.create_campaign(cse, settings, by=officer, today=today)
    rows = []
    for i in range(30):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        children = i % 4
        # 80 € per person, the employee and each child; two employees without children get
        # 250 €, above the Christmas limit of one person (5 % of the PMSS).
        amount = 25000 if i in (4, 8) else 8000 * (1 + children)
        rows.append({"line": i + 2, "last_name": last, "first_name": first,
                     "email": f"{first.lower()}.{last.lower().replace(' ', '')}.{i}"
                              "@manufacture-lyonnaise.example",
                     "employee_number": f"MLT-{1040 + i}", "children": children,
                     "amount_cents": amount})
    for row in rows:  # plain ASCII addresses for the demo
        row["email"] = (row["email"].replace("é", "e").replace("è", "e").replace("ï", "i")
                        .replace("ç", "c"))
    services.replace_beneficiaries(campaign, rows, by=officer, filename="salaries-noel.xlsx")
    return 1 + _paid_campaign(cse, officer, admin, send_on)


def _paid_campaign(cse: Organization, officer, admin, send_on: date) -> int:
    """End-of-year vouchers of 50 € for the 12 night-shift employees (no event: within 5 % of
    the PMSS, spent on anything), quoted, accepted and paid by transfer: the transfer recorded
    pays the campaign (campaigns.billing), whose campaign_paid signal has the cards issued."""
    settings = services.CampaignSettings(
        name=f"Bons de fin d'année {send_on.year} – équipe de nuit", event=CampaignEvent.NONE,
        year=send_on.year, send_on=send_on, validity_months=12, amount_mode=AmountMode.SAME,
        amount_cents=5000, unspent_policy=UnspentPolicy.CREDIT, category_slugs=None)
    campaign = services.create_campaign(cse, settings, by=officer, today=local_today())
    rows = [{"line": i + 2, "last_name": LAST[(i + 3) % len(LAST)],
             "first_name": FIRST[(i + 5) % len(FIRST)],
             "email": f"nuit.{i + 1}@manufacture-lyonnaise.example",
             "employee_number": f"MLT-N{200 + i}", "children": 0, "amount_cents": 5000}
            for i in range(12)]
    services.replace_beneficiaries(campaign, rows, by=officer, filename="equipe-de-nuit.csv")
    billing.get_quote(campaign, by=officer)
    proforma = billing.accept_quote(campaign, by=officer)
    transfers.record_transfer(
        proforma, amount_cents=proforma.total_incl_vat_cents, received_on=proforma.issued_on,
        bank_reference=f"VIR SEPA CSE MANUFACTURE LYONNAISE {printed(proforma.transfer_reference)}",
        by=admin)
    return 1
