"""The campaign's follow-up: its figures equal what the database holds for a campaign with known
spending (online and at counters, a refund, a gift to an association, a cancelled card), the
balance of an employee shown only if they agreed, and the exports."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from marketplace import uow
from marketplace.campaigns import dashboard, sending
from marketplace.campaigns.models import Beneficiary
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.organizations.models import EssStatus, OrganizationKind
from tests.campaigns.helpers import issued_campaign
from tests.factories import make_organization

SEND_DAY = date(2026, 12, 10)


@pytest.fixture
def spent(app, make_campaign, outbox):
    """Five cards of 50 €: #0 spent 20 € at an association and 5 € at a cooperative, then 5 €
    refunded; #1 spent in full at the cooperative; #2 gave 10 € to an association; #3 opened
    and shown to the works council; #4 untouched."""
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=5)
    with uow.unit():
        sending.queue_sending(campaign)
    shop = make_organization(name="Ressourcerie")  # an association
    coop = make_organization(name="Coop Vélo", kind=OrganizationKind.SOCIAL_ENTERPRISE)
    coop.ess_status = EssStatus.SCOP
    db.session.commit()
    card = [_beneficiary(campaign, n).card_id for n in range(5)]
    with uow.unit():
        cards.redeem(card[0], 2000, organization=shop, category="toys")
        cards.redeem(card[0], 500, organization=coop, category="books")
        cards.refund(card[0], 500, reason="Retour")
        cards.redeem(card[1], 5000, organization=coop, category="toys")
        cards.donate(card[2], shop, amount_cents=1000)
        cards.mark_opened(_beneficiary(campaign, 3).card)
        cards.share_balance(card[3], True)
    return campaign


def _beneficiary(campaign, n):
    return db.session.query(Beneficiary).filter_by(campaign_id=campaign.id, line=n + 2).one()


def test_the_figures_equal_the_database(spent):
    figures = dashboard.figures(spent)
    assert (figures.cards, figures.sent, figures.opened) == (5, 5, 1)
    assert (figures.spent_in_part, figures.spent_in_full) == (2, 1)  # #0 and #2; #1
    assert figures.issued_cents == 25000
    assert figures.spent_cents == 2000 + 500 - 500 + 5000
    assert figures.given_cents == 1000
    assert figures.left_cents == 25000 - 7000 - 1000
    kinds = {k.kind: (k.cents, k.sellers) for k in dashboard.spending_by_kind(spent)}
    assert figures.refunded_cents == 500
    # As paid at each seller, before refunds (they come back from an order, not a seller).
    assert kinds == {EssStatus.SCOP: (5500, 1), EssStatus.ASSOCIATION: (2000, 1)}
    (day,) = dashboard.spending_by_day(spent)
    assert day.cents == 7500
    shown = {line.beneficiary.line: line.balance_cents for line in dashboard.lines(spent)}
    assert shown == {2: None, 3: None, 4: None, 5: 5000, 6: None}


def test_the_page_and_its_exports(spent, client, login):
    login(spent.created_by)
    html = client.get(f"/orgs/{spent.organization_id}/campaigns/{spent.id}/dashboard").get_data(
        as_text=True)
    assert "€70.00" in html and "€10.00" in html and "€170.00" in html
    assert '<svg class="bar-chart"' in html and "SCOP cooperative" in html
    assert "Nom3" in html and "Nom0" not in html  # only the balance shown by its holder
    assert "http" not in html.split('<svg class="bar-chart"')[1].split("</svg>")[0]

    data = client.get(f"/orgs/{spent.organization_id}/campaigns/{spent.id}/dashboard.csv")
    text = data.get_data(as_text=True)
    assert data.status_code == 200 and text.count("\n") == 6
    assert "employee3@example.org" in text and "50.00" in text.splitlines()[4]
    assert text.splitlines()[1].endswith(",yes,no,") or text.splitlines()[1].endswith(";yes;no;")

    book = load_workbook(io.BytesIO(client.get(
        f"/orgs/{spent.organization_id}/campaigns/{spent.id}/dashboard.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 6 and rows[4][8] == 50.0 and rows[1][8] is None
