"""Each document's PDF carries every mention French law asks of it (DOMAIN.md, "Invoices"), in
French, with amounts written the French way."""
from datetime import date

import pytest
from flask_babel import force_locale

from marketplace.i18n import money_filter
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.pdf import document_pdf
from tests.invoicing.helpers import CSE, NBSP, NNBSP, campaign_lines, pdf_text, raw_pdf_text

ISSUER = [
    "ESS Marché (association loi 1901)",  # name and legal form
    "12 rue de la Solidarité, 69001 Lyon",
    "SIREN : 912 345 675",
    "SIRET : 912 345 675 00017",
    "N° de TVA intracommunautaire : FR65912345675",
]
CUSTOMER = ["CSE Brasserie du Rhône", "4 quai Saint-Antoine", "69002 Lyon",
            "SIRET : 732 829 320 00074"]
LINES = [
    "Désignation", "Quantité", "Prix unitaire HT", "Taux de TVA", "Total HT",
    "Cartes cadeaux Noël 2026, valeur faciale 120 50,00 €",
    "Sans TVA (bon à usages multiples) 6 000,00 €",
    "Frais de service de la plateforme 1 150,00 € 20 % 150,00 €",
]
TOTALS = ["Total HT 6 150,00 €", "TVA 20 % sur 150,00 € 30,00 €",
          "Non soumis à la TVA 6 000,00 €", "Total TVA 30,00 €", "Total TTC 6 180,00 €",
          "bons à usages multiples, non soumis à la TVA lors de leur vente (art. 256 ter du "
          "Code général des impôts)"]
B2B_TERMS = ["Pas d'escompte pour paiement anticipé.",
             "Pénalités de retard : trois fois le taux d'intérêt légal",
             "Indemnité forfaitaire pour frais de recouvrement due par le client professionnel "
             "en cas de retard de paiement : 40,00 €"]


@pytest.fixture
def documents(app):
    quote = invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:7",
                                  order_reference="BC-2026-114", issued_on=date(2026, 11, 2))
    proforma = invoicing.proforma_from_quote(quote, issued_on=date(2026, 11, 3))
    transfers.record_transfer(proforma, amount_cents=618000, received_on=date(2026, 11, 10),
                              bank_reference="VIR CSE BRASSERIE RF")
    invoice = invoicing.invoice_for_proforma(proforma, sale_on=date(2026, 11, 12),
                                             issued_on=date(2026, 11, 12))
    credit = invoicing.issue_credit_note(
        invoice, [invoicing.voucher_line("Carte cadeau annulée avant l'envoi", quantity=1,
                                         face_value_cents=5000)],
        reason="Salarié parti avant l'envoi des cartes", issued_on=date(2026, 11, 20))
    return {"quote": quote, "proforma": proforma, "invoice": invoice, "credit": credit}


def _missing(text: str, expected: list[str]) -> list[str]:
    return [mention for mention in expected if mention not in text]


def test_the_invoice_carries_every_mandatory_mention(documents):
    text = pdf_text(document_pdf(documents["invoice"]))
    expected = ISSUER + CUSTOMER + LINES + TOTALS + B2B_TERMS + [
        "Facture", "N° F-2026-00001",
        "Date d'émission : 12 novembre 2026",
        "Date d'échéance du paiement : 12 novembre 2026",
        "Votre référence de commande : BC-2026-114",  # the buyer's order number
        "Suite à la facture pro forma n° PF-2026-00001",
        "Payée le 10 novembre 2026 par virement",
    ]
    assert _missing(text, expected) == []
    # The date of sale is printed only when it differs from the date of issue.
    assert "Date de la vente" not in text


def test_an_invoice_sold_earlier_and_not_paid_says_when_it_is_due(app):
    invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:8",
                                      sale_on=date(2026, 11, 30), issued_on=date(2026, 12, 1))
    text = pdf_text(document_pdf(invoice))
    assert _missing(text, [
        "Date de la vente : 30 novembre 2026", "Date d'échéance du paiement : 31 décembre 2026",
        "Conditions de paiement : par virement sous 30 jours à compter de la date d'émission, "
        "au plus tard le 31 décembre 2026."] + B2B_TERMS) == []


def test_the_quote_pdf(documents):
    text = pdf_text(document_pdf(documents["quote"]))
    assert _missing(text, ISSUER + CUSTOMER + LINES + TOTALS + B2B_TERMS + [
        "Devis", "N° DEV-2026-00001", "Date d'émission : 2 novembre 2026",
        "Devis valable jusqu'au 2 décembre 2026"]) == []


def test_the_proforma_carries_the_bank_details_and_the_transfer_reference(documents):
    proforma = documents["proforma"]
    text = pdf_text(document_pdf(proforma))
    assert proforma.transfer_reference == "RF56PF202600001"
    assert _missing(text, ISSUER + CUSTOMER + LINES + TOTALS + B2B_TERMS + [
        "Facture pro forma", "N° PF-2026-00001", "n'est pas une facture",
        "Suite au devis n° DEV-2026-00001",
        "Titulaire du compte ESS Marché (association loi 1901)",
        "IBAN FR76 4255 9000 0112 3456 7890 121", "BIC CCOPFRPPXXX",
        "Montant à virer 6 180,00 €", "Référence du virement RF56 PF20 2600 001",
        "Date d'échéance du paiement : 3 décembre 2026"]) == []


def test_the_credit_note_names_the_invoice_it_cancels(documents):
    credit = documents["credit"]
    assert credit.related_id == documents["invoice"].id
    text = pdf_text(document_pdf(credit))
    assert _missing(text, ISSUER + CUSTOMER + [
        "Avoir", "N° AV-2026-00001", "Date d'émission : 20 novembre 2026",
        "Avoir sur la facture n° F-2026-00001 du 12 novembre 2026",
        "Motif : Salarié parti avant l'envoi des cartes",
        "Carte cadeau annulée avant l'envoi 1 50,00 €",
        "Total de l'avoir TTC 50,00 €", "déduit de la facture n° F-2026-00001"]) == []


def test_amounts_use_french_no_break_spaces(documents):
    # The amounts given to the PDF are Babel's French ones: a narrow no-break space between
    # thousands, a no-break space before the euro sign (pdfium reads the latter back as a
    # space, so only the former can be checked in the PDF's text).
    with force_locale("fr"):
        assert money_filter(618000) == f"6{NNBSP}180,00{NBSP}€"
    raw = raw_pdf_text(document_pdf(documents["invoice"]))
    assert f"Total TTC 6{NNBSP}180,00" in raw and "6 180,00" not in raw


def test_a_platform_under_the_vat_franchise_says_so(make_app):
    app = make_app(PLATFORM_VAT_NUMBER=None)
    with app.app_context():
        invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:9",
                                          issued_on=date(2026, 12, 1))
        text = pdf_text(document_pdf(invoice))
    assert "TVA non applicable, art. 293 B du CGI." in text
    assert "Total TTC 6 150,00 €" in text
    assert "intracommunautaire" not in text.split("Client")[0]


def test_the_document_keeps_the_identity_of_its_day_of_issue(app, documents):
    app.config["PLATFORM_ADDRESS"] = "1 place du Nouveau Siège, 75001 Paris"
    text = pdf_text(document_pdf(documents["invoice"]))
    assert "12 rue de la Solidarité, 69001 Lyon" in text and "Nouveau Siège" not in text
