"""The invoicing admin pages: admins only, pro-formas awaiting a transfer, recording one (with
its CSRF token and amount checks), the documents and their PDFs."""
import re
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.invoicing import services as invoicing
from marketplace.invoicing.models import BankTransfer, Document, PaymentStatus
from tests import factories
from tests.invoicing.helpers import CSE, campaign_lines, pdf_text

DAY = date(2026, 12, 1)


@pytest.fixture
def proforma(app):
    return invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:5", issued_on=DAY)


@pytest.fixture
def admin(app):
    return factories.make_user(email="admin@example.org", is_admin=True)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
                    .replace("\u202f", " ").replace("\u00a0", " ").replace("&#39;", "'").split())


def _post(client, proforma, amount="6 180,00", day="2026-12-02", label="VIR CSE"):
    return client.post(f"/admin/invoicing/documents/{proforma.id}/transfers", data={
        "transfer-amount": amount, "transfer-received_on": day,
        "transfer-bank_reference": label})


@pytest.mark.parametrize("path", ["/admin/invoicing/", "/admin/invoicing/documents/1",
                                  "/admin/invoicing/documents/1.pdf"])
def test_the_pages_are_for_admins_only(client, login, proforma, path):
    assert client.get(path).status_code == 302  # anonymous: to the login page
    login(factories.make_user())
    assert client.get(path).status_code == 403
    assert _post(client, proforma).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankTransfer)) == 0


def test_the_list_shows_the_awaiting_proformas_and_the_documents(client, login, admin,
                                                                  proforma):
    invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:6", issued_on=DAY)
    login(admin)
    page = _text(client.get("/admin/invoicing/"))
    assert "Factures pro forma en attente de virement" in page
    assert "PF-2026-00001" in page and "RF56 PF20 2600 001" in page
    assert "attend un virement (6 180,00 € dus)" in page
    assert "DEV-2026-00001" in page and "Devis" in page
    assert "Facturation" in _text(client.get("/admin/"))  # in the admin menu

    found = _text(client.get("/admin/invoicing/", query_string={"q": "VIR RF56 PF20 2600 001"}))
    assert "Trouvée : PF-2026-00001" in found
    assert client.get("/admin/invoicing/", query_string={"kind": "nonsense"}).status_code == 400


def test_the_pdf_is_served(client, login, admin, proforma):
    login(admin)
    response = client.get(f"/admin/invoicing/documents/{proforma.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "PF-2026-00001.pdf" in response.headers["Content-Disposition"]
    assert "Référence du virement RF56 PF20 2600 001" in pdf_text(response.data)
    assert client.get("/admin/invoicing/documents/999.pdf").status_code == 404


def test_recording_the_exact_amount_pays_the_proforma(client, login, admin, proforma):
    login(admin)
    response = _post(client, proforma)
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "Le virement est enregistré." in page
    assert "est payée : 6 180,00 € reçus, soit la somme due" in page
    db.session.expire_all()
    proforma = db.session.get(Document, proforma.id)
    assert proforma.payment_status == PaymentStatus.PAID
    assert proforma.transfers[0].recorded_by_id == admin.id
    assert "PF-2026-00001" not in _text(client.get("/admin/invoicing/")).split("Documents émis")[0]


def test_a_partial_transfer_is_recorded_and_flagged(client, login, admin, proforma):
    login(admin)
    response = _post(client, proforma, amount="6000")
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "le montant reçu ne correspond pas à la somme due : la facture pro forma n'est pas " \
        "payée" in page
    assert "Anomalie de paiement" in page and "il manque 180,00 €" in page
    db.session.expire_all()
    assert db.session.get(Document, proforma.id).payment_status == PaymentStatus.SHORT


def test_an_excess_is_flagged_and_can_be_sent_back(client, login, admin, proforma):
    login(admin)
    page = _text(client.get(_post(client, proforma, amount="6 190").headers["Location"]))
    assert "10,00 € de trop" in page and "Enregistrer un trop-perçu remboursé" in page

    response = client.post(f"/admin/invoicing/documents/{proforma.id}/refunds", data={
        "refund-amount": "20", "refund-received_on": "2026-12-02"})
    assert response.status_code == 400 and "Seul un trop-perçu" in _text(response)
    response = client.post(f"/admin/invoicing/documents/{proforma.id}/refunds", data={
        "refund-amount": "10,00", "refund-received_on": "2026-12-02"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Document, proforma.id).payment_status == PaymentStatus.PAID


@pytest.mark.parametrize(("amount", "day", "message"), [
    ("", "2026-12-02", "Saisissez le montant reçu."),
    ("douze", "2026-12-02", "Saisissez un montant en euros, par exemple 1 234,50."),
    ("-5", "2026-12-02", "Saisissez un montant en euros"),
    ("0", "2026-12-02", "Le montant doit être supérieur à 0 €."),
    ("12,345", "2026-12-02", "Saisissez un montant en euros"),
    ("6180", "", "Indiquez la date à laquelle le virement est arrivé"),
    ("6180", "02/12/2026x", "Indiquez la date"),
    ("6180", "2999-01-01", "La date ne peut pas être dans le futur."),
    ("6180", "2026-11-30", "antérieure à l'émission de la facture pro forma"),
])
def test_bad_input_gets_a_400_and_changes_nothing(client, login, admin, proforma, amount, day,
                                                  message):
    login(admin)
    response = _post(client, proforma, amount=amount, day=day)
    assert response.status_code == 400
    assert message in _text(response)
    db.session.expire_all()
    assert db.session.get(Document, proforma.id).payment_status == PaymentStatus.AWAITING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankTransfer)) == 0


def test_transfers_are_recorded_against_proformas_only(client, login, admin):
    invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:5",
                                      issued_on=DAY)
    login(admin)
    assert _post(client, invoice).status_code == 404
    assert client.post("/admin/invoicing/documents/999/transfers").status_code == 404


def test_the_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        proforma = invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:5",
                                            issued_on=DAY)
        key = factories.make_session_key(factories.make_user(is_admin=True))
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key

        assert _post(client, proforma).status_code == 400
        page = client.get(f"/admin/invoicing/documents/{proforma.id}").get_data(as_text=True)
        token = re.search(r'id="transfer-csrf_token" name="transfer-csrf_token" type="hidden" '
                          r'value="([^"]+)"', page).group(1)
        response = client.post(f"/admin/invoicing/documents/{proforma.id}/transfers", data={
            "transfer-csrf_token": token, "transfer-amount": "6 180,00",
            "transfer-received_on": "2026-12-02"})
        assert response.status_code == 303
