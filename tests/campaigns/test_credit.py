"""The works council's credit from the value left unspent on its cards (campaigns.credit): the
next campaign's quote deducts it on a line of its own (never below zero, the fee still paid),
the pro-forma and the invoice carry the line, a withdrawn quote or a cancelled campaign gives the
credit back, the pages show it, and two quotes at once never spend the same credit
(PostgreSQL, real threads)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.campaigns import billing, credit, services
from marketplace.campaigns.models import AmountMode, CampaignCredit, CampaignCreditUse
from marketplace.db import db
from marketplace.giftcards import services as giftcards
from marketplace.invoicing.models import VatTreatment
from marketplace.invoicing.pdf import document_pdf
from tests.campaigns.test_billing import TOTAL, _text, import_beneficiaries, issue_cards, paid
from tests.invoicing.helpers import pdf_text
from tests.threads import at_once

# The campaign of test_billing: 210 € of face value, a fee of 5,25 € + 1,05 € VAT.
FACE_VALUE, FEE = 21000, 525 + 105


def give_credit(campaign, *amounts: int) -> None:
    """Credits as campaigns.closing records them at expiry: one row per card (of `campaign`,
    the earlier one)."""
    for amount in amounts:
        card = giftcards.issue(min(amount, 15000))
        db.session.add(CampaignCredit(organization_id=campaign.organization_id,
                                      campaign_id=campaign.id, card_id=card.id,
                                      amount_cents=amount))
    db.session.flush()


@pytest.fixture
def earlier(make_campaign):
    return make_campaign(name="Noël 2025", year=2026)


@pytest.fixture
def ready(make_campaign, officer):
    campaign = make_campaign(mode=AmountMode.PER_BENEFICIARY, amount_cents=None, name="Noël")
    return import_beneficiaries(campaign, officer)


def test_the_quote_deducts_the_credit_and_the_proforma_and_invoice_carry_it(
        ready, earlier, officer):
    give_credit(earlier, 3000, 1500)
    assert credit.available_cents(ready.organization_id) == 4500

    proforma = paid(ready, officer)
    quote = billing.current_quote(ready)
    line = quote.lines[-1]
    assert (line.quantity, line.unit_price_cents, line.vat_treatment) == (
        1, -4500, VatTreatment.VOUCHER)
    assert "Crédit du CSE déduit" in line.description
    assert quote.total_incl_vat_cents == TOTAL - 4500 and quote.total_vat_cents == 105
    assert proforma.total_incl_vat_cents == TOTAL - 4500
    assert credit.available_cents(ready.organization_id) == 0
    assert credit.used_by(ready) == 4500

    issue_cards(ready)
    invoice = billing.invoice_of(ready)
    assert invoice.total_incl_vat_cents == TOTAL - 4500
    text = " ".join(pdf_text(document_pdf(invoice)).replace("\u00a0", " ").split())
    assert "Crédit du CSE déduit" in text and "-45,00 €" in text
    assert "Total TTC 171,30 €" in text


def test_a_credit_above_the_face_value_leaves_the_fee_and_keeps_the_rest(
        ready, earlier, officer):
    give_credit(earlier, 10000, 10000, 5000)  # 250 € for 210 € of cards
    quote = billing.get_quote(ready, by=officer)
    assert quote.lines[-1].unit_price_cents == -FACE_VALUE
    assert quote.total_incl_vat_cents == FEE  # the fee is paid, the total is never negative
    assert credit.available_cents(ready.organization_id) == 4000  # for the next campaign


def test_without_fee_a_credit_leaves_one_cent_to_pay(ready, earlier, officer, app):
    app.config["CAMPAIGN_SERVICE_FEE_BP"] = 0
    give_credit(earlier, 15000, 15000)
    quote = billing.get_quote(ready, by=officer)
    assert quote.total_incl_vat_cents == 1


def test_a_withdrawn_quote_or_a_cancelled_campaign_gives_the_credit_back(
        ready, earlier, officer):
    give_credit(earlier, 3000)
    billing.get_quote(ready, by=officer)
    assert credit.available_cents(ready.organization_id) == 0
    billing.withdraw_quote(ready, by=officer)
    assert credit.available_cents(ready.organization_id) == 3000 and credit.used_by(ready) == 0
    again = billing.get_quote(ready, by=officer)
    assert again.lines[-1].unit_price_cents == -3000  # the same credit, once
    billing.cancel(ready, by=officer, reason="Budget")
    assert credit.available_cents(ready.organization_id) == 3000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignCreditUse)) == 2


def test_no_credit_no_line(ready, officer):
    quote = billing.get_quote(ready, by=officer)
    assert all(line.unit_price_cents >= 0 for line in quote.lines)
    assert quote.total_incl_vat_cents == TOTAL


def test_the_pages_show_the_credit_available_and_used(client, login, cse, ready, earlier,
                                                       officer):
    give_credit(earlier, 2500)
    db.session.commit()
    login(officer)
    base = f"/orgs/{cse.id}/campaigns/{ready.id}"
    page = _text(client.get(base))
    assert "Your credit from the value left unspent on earlier campaigns' cards, €25.00" in page
    assert client.post(f"{base}/quote").status_code == 303
    page = _text(client.get(base))
    assert "Credit deducted €25.00" in page
    assert f"Total including VAT €{(TOTAL - 2500) / 100:.2f}" in page
    listing = _text(client.get(f"/orgs/{cse.id}/campaigns"))
    assert "Credit available for your next campaigns €0.00" in listing
    assert "Credit already deducted from quotes €25.00" in listing


@pytest.mark.postgres
def test_two_quotes_at_once_never_spend_the_same_credit(app, make_campaign, officer, earlier):
    campaigns = []
    for name in ("Noël A", "Noël B", "Noël C", "Noël D"):
        campaign = make_campaign(name=name)  # other employees each time (URSSAF limits)
        services.replace_beneficiaries(campaign, [{
            "line": 2, "last_name": "Salarié", "first_name": name, "children": 0,
            "email": f"{name[-1].lower()}@textiles.example", "employee_number": name,
            "amount_cents": 15000}], by=officer, filename="salaries.csv")
        campaigns.append(campaign.id)
    give_credit(earlier, 6000, 4000)  # 100 €; each quote could take all of it
    organization_id = earlier.organization_id
    officer_id = officer.id
    db.session.commit()

    def quote(i):
        from marketplace.accounts.models import User
        from marketplace.campaigns.models import Campaign

        campaign = db.session.get(Campaign, campaigns[i])
        billing.get_quote(campaign, by=db.session.get(User, officer_id))
        return credit.used_by(campaign)

    results, errors = at_once(app, quote, 4, commit=True)

    assert errors == []
    assert sorted(results) == [0, 0, 0, 10000]  # one quote took it all, the others nothing
    db.session.expire_all()
    assert credit.available_cents(organization_id) == 0
    assert credit.used_cents(organization_id) == 10000


def test_the_credit_written_at_expiry_pays_part_of_the_next_campaign(
        app, make_campaign, officer, outbox):
    """From end to end: a campaign expires with 80 € left (closing writes the credit), and the
    works council's next campaign deducts them."""
    from marketplace.campaigns.models import UnspentPolicy
    from tests.campaigns.test_closing import _campaign, _expire

    earlier = _campaign(make_campaign, UnspentPolicy.CREDIT)
    assert _expire() == 1
    assert credit.available_cents(earlier.organization_id) == 8000
    following = import_beneficiaries(make_campaign(
        mode=AmountMode.PER_BENEFICIARY, amount_cents=None, name="Fête des mères"), officer)
    quote = billing.get_quote(following, by=officer)
    assert quote.lines[-1].unit_price_cents == -8000
    assert quote.total_incl_vat_cents == TOTAL - 8000
    assert credit.available_cents(earlier.organization_id) == 0
