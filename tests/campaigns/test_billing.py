"""A campaign's quote, pro-forma, payment by transfer, invoice and credit notes (campaigns.billing),
through the services and the pages: numbers, lines, the PDFs' mentions, the transfers that pay
the campaign and those that do not, wrong states refused with a 4xx, CSRF."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.campaigns import billing, payment_methods, services
from marketplace.campaigns.models import (
    AmountMode,
    Beneficiary,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    UnspentPolicy,
)
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.signals import campaign_paid
from marketplace.db import db
from marketplace.giftcards import services as giftcards
from marketplace.giftcards.models import CardStatus, GiftCard
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.models import Document, DocumentKind, PaymentStatus, VatTreatment
from marketplace.invoicing.pdf import document_pdf
from marketplace.invoicing.references import printed
from tests import factories
from tests.invoicing.helpers import pdf_text

# Two cards of 80 €, one of 50 €: 210 € of face value, a 2.5 % fee of 5,25 € + 1,05 € VAT.
AMOUNTS = (8000, 5000, 8000)
TOTAL = 21000 + 525 + 105


def import_beneficiaries(campaign, officer, amounts=AMOUNTS):
    rows = [{"line": i + 2, "last_name": f"Salarié{i}", "first_name": "Léa",
             "email": f"lea{i}@textiles.example", "employee_number": f"T-{i}", "children": 0,
             "amount_cents": amount} for i, amount in enumerate(amounts)]
    services.replace_beneficiaries(campaign, rows, by=officer, filename="salaries.csv")
    return campaign


@pytest.fixture
def ready(make_campaign, officer):
    """A Christmas campaign of three employees, an amount each, ready for its quote."""
    campaign = make_campaign(mode=AmountMode.PER_BENEFICIARY, amount_cents=None)
    return import_beneficiaries(campaign, officer)


@pytest.fixture
def admin(app):
    return factories.make_user(email="admin@example.org", is_admin=True)


def issue_cards(campaign):
    """What the issuance (another module, listening to campaign_paid) does: a named card per
    beneficiary; then the campaign is issued."""
    for beneficiary in db.session.scalars(services.beneficiaries(campaign)):
        card = giftcards.issue(beneficiary.amount_cents, recipient_name=beneficiary.full_name)
        beneficiary.card_id = card.id
    db.session.flush()
    services.mark_issued(campaign, by=None)


def paid(campaign, officer):
    billing.get_quote(campaign, by=officer)
    proforma = billing.accept_quote(campaign, by=officer)
    transfers.record_transfer(proforma, amount_cents=proforma.total_incl_vat_cents,
                              received_on=invoicing.local_today(), bank_reference="VIR CSE")
    return proforma


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
                    .replace("\u202f", " ").replace("\u00a0", " ").replace("&#39;", "'")
                    .replace("&#34;", '"').split())


# --- the quote -------------------------------------------------------------------------------

def test_the_quote_groups_the_cards_by_amount_and_adds_the_fee_with_vat(ready, officer, cse):
    quote = billing.get_quote(ready, by=officer)
    assert ready.status == CampaignStatus.QUOTED
    assert quote.kind == DocumentKind.QUOTE and quote.number == f"DEV-{quote.year}-00001"
    assert quote.subject == f"campaign:{ready.id}"
    assert quote.customer_name == cse.name and quote.customer_siret == "55210055400013"
    assert [(line.quantity, line.unit_price_cents, line.vat_treatment, line.vat_rate_bp)
            for line in quote.lines] == [(2, 8000, VatTreatment.VOUCHER, 0),
                                         (1, 5000, VatTreatment.VOUCHER, 0),
                                         (1, 525, VatTreatment.VAT, 2000)]
    assert " ".join(quote.lines[0].description.replace("\u00a0", " ").split()) == (
        "Cartes cadeaux « Noël » de 80,00 € (valeur faciale)")
    assert "2,5 % de la valeur faciale de 210,00 €" in quote.lines[2].description.replace(
        "\u00a0", " ")
    assert (quote.total_excl_vat_cents, quote.total_vat_cents, quote.total_incl_vat_cents) == (
        21525, 105, TOTAL)


def test_quotes_are_numbered_in_turn_and_a_withdrawn_quote_stays(ready, officer):
    first = billing.get_quote(ready, by=officer)
    billing.withdraw_quote(ready, by=officer)
    assert ready.status == CampaignStatus.BENEFICIARIES_IMPORTED
    second = billing.get_quote(ready, by=officer)
    assert second.sequence == first.sequence + 1
    assert billing.current_quote(ready) == second
    assert [d.number for d in billing.documents(ready)] == [first.number, second.number]


def test_the_fee_follows_the_setting_and_none_gives_no_line(make_app):
    app = make_app(CAMPAIGN_SERVICE_FEE_BP=0)
    with app.app_context():
        from marketplace.organizations.models import OrganizationKind
        from tests.factories import make_organization, make_user

        owner = make_user(email="owner@cse.example")
        cse = make_organization(name="CSE Zéro", kind=OrganizationKind.WORKS_COUNCIL,
                                owner=owner, siret="73282932000074")
        settings = services.CampaignSettings(
            name="Noël", event=CampaignEvent.NONE, year=2026,
            send_on=date(2026, 12, 20), validity_months=12, amount_mode=AmountMode.SAME,
            amount_cents=5000, unspent_policy=UnspentPolicy.CREDIT)
        campaign = services.create_campaign(cse, settings, by=owner, today=date(2026, 1, 1))
        import_beneficiaries(campaign, owner, amounts=(5000, 5000))
        quote = billing.get_quote(campaign, by=owner)
        assert [(line.quantity, line.unit_price_cents) for line in quote.lines] == [(2, 5000)]
        assert quote.total_incl_vat_cents == 10000


def test_the_quote_pdf_carries_the_mentions(ready, officer):
    text = pdf_text(document_pdf(billing.get_quote(ready, by=officer)))
    for mention in ("Devis", "N° DEV-", "CSE Textiles", "SIRET : 552 100 554 00013",
                    "ESS Marché", "SIREN : 912 345 675",
                    "Cartes cadeaux « Noël » de 80,00 € (valeur faciale) 2 80,00 €",
                    "Sans TVA (bon à usages multiples)", "20 %", "Total HT 215,25 €",
                    "Total TVA 1,05 €", "Total TTC 216,30 €", "Devis valable jusqu'au",
                    "Indemnité forfaitaire pour frais de recouvrement"):
        assert mention in text, mention


def test_a_campaign_not_ready_gets_no_quote(make_campaign, officer):
    campaign = make_campaign()
    with pytest.raises(CampaignError) as refused:
        billing.get_quote(campaign, by=officer)
    assert refused.value.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


# --- acceptance, transfers -------------------------------------------------------------------

def test_accepting_issues_the_proforma_once(ready, officer):
    quote = billing.get_quote(ready, by=officer)
    proforma = billing.accept_quote(ready, by=officer)
    assert proforma.kind == DocumentKind.PROFORMA and proforma.related_id == quote.id
    assert proforma.total_incl_vat_cents == TOTAL
    assert proforma.transfer_reference.startswith("RF")
    assert proforma.payment_status == PaymentStatus.AWAITING
    assert billing.accept_quote(ready, by=officer) == proforma
    with pytest.raises(CampaignError) as refused:  # a pro-forma is out: the quote stays
        billing.withdraw_quote(ready, by=officer)
    assert refused.value.status_code == 409
    text = pdf_text(document_pdf(proforma))
    assert "Facture pro forma" in text and "IBAN FR76 4255 9000 0112 3456 7890 121" in text
    assert "Montant à virer 216,30 €" in text


def test_an_expired_quote_cannot_be_accepted(ready, officer):
    quote = billing.get_quote(ready, by=officer)
    with pytest.raises(CampaignError) as refused:
        billing.accept_quote(ready, by=officer, today=date.fromordinal(quote.due_on.toordinal() + 1))
    assert refused.value.status_code == 409


@pytest.mark.parametrize("amount, status", [(TOTAL - 100, PaymentStatus.SHORT),
                                            (TOTAL + 100, PaymentStatus.EXCESS)])
def test_a_partial_or_excess_transfer_does_not_pay_the_campaign(ready, officer, amount, status):
    billing.get_quote(ready, by=officer)
    proforma = billing.accept_quote(ready, by=officer)
    sent = []
    campaign_paid.connect(sent.append, weak=False)
    try:
        outcome = transfers.record_transfer(proforma, amount_cents=amount,
                                            received_on=invoicing.local_today())
    finally:
        campaign_paid.disconnect(sent.append)
    assert outcome.status == status and outcome.is_discrepancy
    assert ready.status == CampaignStatus.QUOTED and ready.paid_at is None and sent == []
    assert proforma in transfers.awaiting_transfer()  # flagged on the team's page
    if status == PaymentStatus.EXCESS:  # the excess sent back: paid
        transfers.record_refund(proforma, amount_cents=100, sent_on=invoicing.local_today())
        assert ready.status == CampaignStatus.PAID
    else:  # the rest arrives: paid
        transfers.record_transfer(proforma, amount_cents=100, received_on=invoicing.local_today())
        assert ready.status == CampaignStatus.PAID


def test_the_full_transfer_pays_the_campaign_once(ready, officer):
    sent = []
    campaign_paid.connect(sent.append, weak=False)
    try:
        proforma = paid(ready, officer)
        assert ready.status == CampaignStatus.PAID and ready.paid_at is not None
        assert sent == [ready]
        # The signal again (an excess refunded later): nothing moves twice.
        transfers.proforma_paid.send(proforma)
    finally:
        campaign_paid.disconnect(sent.append)
    assert sent == [ready]


def test_a_transfer_for_a_cancelled_campaign_is_refused(ready, officer):
    billing.get_quote(ready, by=officer)
    proforma = billing.accept_quote(ready, by=officer)
    services.cancel(ready, by=officer, reason="Budget")
    with pytest.raises(CampaignError) as refused:
        transfers.record_transfer(proforma, amount_cents=TOTAL,
                                  received_on=invoicing.local_today())
    assert refused.value.status_code == 409
    assert "Send it back" in str(refused.value.message)


def test_a_card_payment_pays_the_campaign_through_its_proforma(ready, officer):
    billing.get_quote(ready, by=officer)
    with pytest.raises(CampaignError):  # not accepted yet: nothing to pay
        billing.paid_by_card(ready, TOTAL, reference="CMD-1")
    proforma = billing.accept_quote(ready, by=officer)
    outcome = billing.paid_by_card(ready, TOTAL, reference="CMD-1")
    assert outcome.status == PaymentStatus.PAID and ready.status == CampaignStatus.PAID
    assert proforma.transfers[0].bank_reference == "Paiement par carte CMD-1"
    issue_cards(ready)
    text = pdf_text(document_pdf(billing.invoice_of(ready)))
    assert "par carte : plus rien n'est dû" in text and "par virement" not in text


def test_a_gateway_transfer_is_invoiced_as_a_transfer(ready, officer):
    billing.get_quote(ready, by=officer)
    proforma = billing.accept_quote(ready, by=officer)
    billing.paid_by_card(ready, TOTAL, reference="CMD-2", by_transfer=True)
    assert proforma.transfers[0].bank_reference == "Virement CMD-2"
    issue_cards(ready)
    assert "par virement : plus rien n'est dû" in pdf_text(document_pdf(
        billing.invoice_of(ready)))


def test_the_invoice_follows_the_cards(ready, officer):
    proforma = paid(ready, officer)
    assert billing.invoice_of(ready) is None  # not before the cards exist
    issue_cards(ready)
    invoice = billing.invoice_of(ready)
    assert invoice is not None and invoice.related_id == proforma.id
    assert invoice.number == f"F-{invoice.year}-00001"
    assert invoice.total_incl_vat_cents == TOTAL and invoice.paid_on == invoicing.local_today()
    text = pdf_text(document_pdf(invoice))
    for mention in ("Facture", invoice.number, "CSE Textiles", "SIRET : 552 100 554 00013",
                    "SIRET : 912 345 675 00017", "N° de TVA intracommunautaire",
                    "Date d'émission", "Total HT 215,25 €", "Total TTC 216,30 €",
                    f"Suite à la facture pro forma n° {proforma.number}", "Payée le",
                    "Pénalités de retard", "40,00 €"):
        assert mention in text, mention


def test_issued_without_a_paid_proforma_gives_no_invoice(make_campaign, officer):
    campaign = import_beneficiaries(make_campaign(), officer)
    services.mark_quoted(campaign, by=officer)
    services.mark_paid(campaign, by=officer)  # paid some other way (another module's test)
    services.mark_issued(campaign, by=officer)
    assert billing.invoice_of(campaign) is None


# --- credit notes ----------------------------------------------------------------------------

def test_a_card_cancelled_before_sending_gives_a_credit_note(ready, officer):
    paid(ready, officer)
    issue_cards(ready)
    beneficiary = db.session.scalars(services.beneficiaries(ready)).first()
    note = billing.cancel_card(ready, beneficiary, reason="A quitté l'entreprise", by=officer,
                               today=date(ready.year, 1, 2))
    card = db.session.get(GiftCard, beneficiary.card_id)
    assert card.status == CardStatus.BLOCKED and card.balance_cents == 0
    assert card.blocked_reason == "A quitté l'entreprise" and billing.card_cancelled(card)
    assert note.kind == DocumentKind.CREDIT_NOTE and note.related_id == billing.invoice_of(ready).id
    assert note.total_incl_vat_cents == beneficiary.amount_cents
    text = pdf_text(document_pdf(note))
    for mention in ("Avoir", note.number, "CSE Textiles", "SIRET : 552 100 554 00013",
                    f"Avoir sur la facture n° {billing.invoice_of(ready).number}",
                    "Motif : Carte au nom « Léa Salarié0 » (ligne 2) annulée avant son envoi",
                    "Total de l'avoir TTC 80,00 €"):
        assert mention in text, mention
    with pytest.raises(CampaignError) as twice:
        billing.cancel_card(ready, beneficiary, reason="encore", by=officer,
                            today=date(ready.year, 1, 2))
    assert twice.value.status_code == 409


def test_no_credit_note_once_the_cards_are_sent_or_before_they_are_issued(ready, officer):
    paid(ready, officer)
    beneficiary = db.session.scalars(services.beneficiaries(ready)).first()
    with pytest.raises(CampaignError) as not_issued:
        billing.cancel_card(ready, beneficiary, reason="x", by=officer, today=date(ready.year, 1, 2))
    assert not_issued.value.status_code == 409
    issue_cards(ready)
    with pytest.raises(CampaignError) as sent:
        billing.cancel_card(ready, beneficiary, reason="x", by=officer, today=ready.send_on)
    assert sent.value.status_code == 409
    with pytest.raises(CampaignError) as no_reason:
        billing.cancel_card(ready, beneficiary, reason=" ", by=officer,
                            today=date(ready.year, 1, 2))
    assert no_reason.value.status_code == 400
    assert db.session.get(GiftCard, beneficiary.card_id).status == CardStatus.ACTIVE


# --- the registry ----------------------------------------------------------------------------

def test_the_transfer_method_is_registered_and_the_form_is_built_from_the_registry(app):
    from marketplace.campaigns.forms import PaymentForm

    names = [name for name, _label, _start in payment_methods.available()]
    assert "transfer" in names
    with app.test_request_context():
        form = PaymentForm(formdata=None)
        assert [name for name, _label in form.method.choices] == names


def test_a_method_registered_elsewhere_is_offered_and_started(client, login, ready, cse,
                                                             officer):
    started = []

    def start(campaign, proforma, *, return_url):
        started.append((campaign.id, proforma.kind, return_url))
        return "https://pay.example/session/1"

    payment_methods.register("test_pigeon", "By pigeon", start, offered=lambda: True)
    try:
        billing.get_quote(ready, by=officer)
        login(officer)
        base = f"/orgs/{cse.id}/campaigns/{ready.id}"
        assert "By pigeon" in _text(client.get(base))
        response = client.post(f"{base}/quote/accept", data={"method": "test_pigeon"})
        assert response.status_code == 303
        assert response.location == "https://pay.example/session/1"
        assert started == [(ready.id, DocumentKind.PROFORMA, f"http://localhost{base}")]
    finally:
        payment_methods._METHODS.pop("test_pigeon")
        payment_methods._OFFERED.pop("test_pigeon", None)


# --- the pages -------------------------------------------------------------------------------

def test_the_works_council_gets_its_quote_and_pays_by_transfer_through_the_pages(
        client, login, ready, cse, officer, admin, monkeypatch):
    login(officer)
    base = f"/orgs/{cse.id}/campaigns/{ready.id}"
    page = _text(client.get(base))
    assert "Get the quote" in page and "2.5%" in page
    response = client.post(f"{base}/quote")
    assert response.status_code == 303
    page = _text(client.get(base))
    quote = billing.current_quote(db.session.get(Campaign, ready.id))
    assert f"Quote {quote.number} (PDF)" in page and "Accept the quote and pay" in page
    assert "Bank transfer" in page
    pdf = client.get(f"{base}/documents/{quote.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Devis" in pdf_text(pdf.data)

    assert client.post(f"{base}/quote/accept", data={}).status_code == 400  # no choice
    assert client.post(f"{base}/quote/accept", data={"method": "pigeon"}).status_code == 400
    response = client.post(f"{base}/quote/accept", data={"method": "transfer"})
    assert response.status_code == 303 and response.location.endswith(base)
    page = _text(client.get(base))
    proforma = billing.proforma_of(quote)
    assert "Amount to transfer 216.30" in page.replace("€", "")
    assert printed(proforma.transfer_reference) in page
    assert proforma.number in page and "FR76 4255 9000 0112 3456 7890 121" in page
    assert "We are waiting for your transfer of €216.30." in page
    assert "Withdraw the quote" not in page
    assert client.post(f"{base}/quote/withdraw").status_code == 409

    login(admin)
    response = client.post(f"/admin/invoicing/documents/{proforma.id}/transfers", data={
        "transfer-amount": "216,30", "transfer-received_on": invoicing.local_today().isoformat(),
        "transfer-bank_reference": "VIR CSE TEXTILES"})
    assert response.status_code == 303
    db.session.expire_all()
    campaign = db.session.get(Campaign, ready.id)
    assert campaign.status in (CampaignStatus.PAID, CampaignStatus.ISSUED)

    login(officer)
    page = _text(client.get(base))
    assert "Your payment of €216.30 was received." in page
    if campaign.status == CampaignStatus.PAID:
        # Without campaigns.issuance (campaign_paid's receiver, which issues the cards once
        # the payment is committed), this test issues them.
        assert "The campaign is paid" in page
        issue_cards(campaign)
        db.session.commit()
    page = _text(client.get(base))
    invoice = billing.invoice_of(campaign)
    assert f"Invoice {invoice.number} (PDF)" in page
    assert client.get(f"{base}/documents/{invoice.id}.pdf").status_code == 200

    # Cancelling a card from the beneficiaries' page, before the sending date.
    monkeypatch.setattr(invoicing, "local_today", lambda: date(campaign.year, 1, 2))
    page = _text(client.get(f"{base}/beneficiaries"))
    assert "Cancel the card and issue a credit note" in page
    beneficiary = db.session.scalars(services.beneficiaries(campaign)).first()
    url = f"{base}/beneficiaries/{beneficiary.id}/cancel-card"
    assert client.post(url, data={"reason": ""}).status_code == 400
    response = client.post(url, data={"reason": "Left the company"})
    assert response.status_code == 303
    page = _text(client.get(response.location))
    assert "Cancelled: Left the company" in page and "credit note AV-" in page
    note = db.session.scalar(sa.select(Document).where(Document.kind == DocumentKind.CREDIT_NOTE))
    assert client.get(f"{base}/documents/{note.id}.pdf").status_code == 200
    assert client.post(url, data={"reason": "again"}).status_code == 409


def test_wrong_states_and_other_campaigns_documents_are_refused(client, login, cse, officer,
                                                                make_campaign, ready):
    draft = make_campaign(name="Brouillon")
    login(officer)
    base = f"/orgs/{cse.id}/campaigns"
    assert client.post(f"{base}/{draft.id}/quote").status_code == 409
    assert client.post(f"{base}/{draft.id}/quote/withdraw").status_code == 409
    assert client.post(f"{base}/{draft.id}/quote/accept",
                       data={"method": "transfer"}).status_code == 409
    beneficiary = db.session.scalars(services.beneficiaries(ready)).first()
    assert client.post(f"{base}/{ready.id}/beneficiaries/{beneficiary.id}/cancel-card",
                       data={"reason": "x"}).status_code == 409
    assert client.post(f"{base}/{draft.id}/beneficiaries/{beneficiary.id}/cancel-card",
                       data={"reason": "x"}).status_code == 404
    quote = billing.get_quote(ready, by=officer)
    db.session.commit()
    assert client.get(f"{base}/{draft.id}/documents/{quote.id}.pdf").status_code == 404
    assert client.get(f"{base}/{ready.id}/documents/99999.pdf").status_code == 404
    assert client.post(f"{base}/{ready.id}/quote").status_code == 409  # quoted already
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


def test_a_counter_member_downloads_but_does_not_quote(client, login, cse, ready, make_user):
    from marketplace.organizations.models import Membership, Role

    member = make_user(email="counter@cse.example")
    db.session.add(Membership(organization=cse, user=member, role=Role.COUNTER))
    login(member)
    base = f"/orgs/{cse.id}/campaigns/{ready.id}"
    assert "Get the quote" not in _text(client.get(base))
    assert client.post(f"{base}/quote").status_code == 403
    assert db.session.get(Campaign, ready.id).status == CampaignStatus.BENEFICIARIES_IMPORTED


def test_the_forms_need_their_csrf_token(make_app, cse, officer, ready):
    billing.get_quote(ready, by=officer)
    key = factories.make_session_key(officer)
    db.session.commit()
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = key
    base = f"/orgs/{cse.id}/campaigns/{ready.id}"
    html = client.get(base).get_data(as_text=True)
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
    assert len(forms) >= 3 and all('name="csrf_token"' in form for form in forms)
    assert client.post(f"{base}/quote/accept", data={"method": "transfer"}).status_code == 400
    assert client.post(f"{base}/quote/withdraw").status_code == 400
    with app.app_context():
        assert db.session.get(Campaign, ready.id).status == CampaignStatus.QUOTED
        assert billing.proforma_of(billing.current_quote(
            db.session.get(Campaign, ready.id))) is None
        beneficiary = db.session.scalar(sa.select(Beneficiary).limit(1))
    assert client.post(f"{base}/beneficiaries/{beneficiary.id}/cancel-card",
                       data={"reason": "x"}).status_code == 400


def test_a_campaign_with_money_received_is_not_cancelled_by_the_works_council(
        client, login, ready, cse, officer):
    billing.get_quote(ready, by=officer)
    proforma = billing.accept_quote(ready, by=officer)
    assert billing.may_cancel(ready)  # accepted, nothing received yet
    transfers.record_transfer(proforma, amount_cents=1000, received_on=invoicing.local_today())
    assert not billing.may_cancel(ready)
    login(officer)
    base = f"/orgs/{cse.id}/campaigns/{ready.id}"
    assert "Cancel the campaign" not in _text(client.get(base))
    assert client.post(f"{base}/cancel", data={"reason": "Budget"}).status_code == 409
    assert db.session.get(Campaign, ready.id).status == CampaignStatus.QUOTED
