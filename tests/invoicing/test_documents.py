"""Issuing documents: totals per VAT rate, immutability once issued, what a credit note may
cancel, one invoice per paid pro-forma, and inputs refused with a clear message."""
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.models import (
    Document,
    DocumentIssued,
    DocumentKind,
    PaymentStatus,
    VatTreatment,
)
from tests.invoicing.helpers import CSE, campaign_lines

DAY = date(2026, 12, 1)


def _paid_proforma() -> Document:
    proforma = invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:3",
                                        issued_on=DAY)
    transfers.record_transfer(proforma, amount_cents=proforma.total_incl_vat_cents,
                              received_on=DAY)
    return proforma


def test_totals_no_vat_on_the_cards_and_vat_on_the_fee(app):
    quote = invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:3", issued_on=DAY)

    assert [line.vat_treatment for line in quote.lines] == [VatTreatment.VOUCHER,
                                                            VatTreatment.VAT]
    assert [line.vat_rate_bp for line in quote.lines] == [0, 2000]
    assert (quote.total_excl_vat_cents, quote.total_vat_cents,
            quote.total_incl_vat_cents) == (615000, 3000, 618000)
    assert quote.due_on == date(2026, 12, 31)  # valid 30 days
    assert quote.issuer["siret"] == "912 345 675 00017"
    assert quote.customer_siret == "73282932000074"


def test_vat_is_computed_per_rate_on_the_rate_total_rounded_half_up(app):
    lines = [invoicing.Line("Frais A", 1, 333), invoicing.Line("Frais B", 1, 333)]
    lines = [invoicing.Line(line.description, 1, 333, VatTreatment.VAT, 2000) for line in lines]
    totals = invoicing.totals_of(lines)
    assert totals.vat_by_rate == {2000: (666, 133)}  # 133.2 -> 133, not 67 + 67
    assert invoicing.vat_cents(250, 2000) == 50 and invoicing.vat_cents(2, 2500) == 1


def test_the_fee_vat_rate_is_a_setting(make_app):
    app = make_app(INVOICING_SERVICE_FEE_VAT_BP=1000)
    with app.app_context():
        line = invoicing.service_fee_line("Frais", amount_excl_vat_cents=10000)
    assert (line.vat, line.vat_rate_bp) == (VatTreatment.VAT, 1000)


def test_an_issued_document_cannot_change_nor_be_deleted(app):
    invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:3",
                                      issued_on=DAY)
    db.session.commit()

    invoice.total_excl_vat_cents = 1
    with pytest.raises(DocumentIssued):
        db.session.flush()
    db.session.rollback()

    invoice.lines[0].quantity = 3
    with pytest.raises(DocumentIssued):
        db.session.flush()
    db.session.rollback()

    db.session.delete(invoice)
    with pytest.raises(DocumentIssued):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Document, invoice.id).total_excl_vat_cents == 615000


def test_issuing_is_audited(app):
    invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:3",
                                      issued_on=DAY)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "invoicing.issued"))
    assert entry.subject_id == invoice.id
    assert entry.data == {"number": "F-2026-00001", "kind": "invoice", "amount_cents": 618000,
                          "customer": "CSE Brasserie du Rhône"}


def test_a_paid_proforma_gets_one_invoice_however_often_it_is_asked(app):
    proforma = _paid_proforma()
    invoice = invoicing.invoice_for_proforma(proforma, issued_on=DAY)
    again = invoicing.invoice_for_proforma(proforma, issued_on=DAY)

    assert again.id == invoice.id and invoice.number == "F-2026-00001"
    assert invoice.related_id == proforma.id and invoice.paid_on == DAY
    assert invoice.total_incl_vat_cents == proforma.total_incl_vat_cents
    assert invoicing.documents_for("campaign:3") == [proforma, invoice]


def test_an_unpaid_or_short_paid_proforma_is_not_invoiced(app):
    proforma = invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:3",
                                        issued_on=DAY)
    with pytest.raises(invoicing.InvoicingError) as refused:
        invoicing.invoice_for_proforma(proforma)
    assert refused.value.status_code == 409
    transfers.record_transfer(proforma, amount_cents=100000, received_on=DAY)
    with pytest.raises(invoicing.InvoicingError):
        invoicing.invoice_for_proforma(proforma)
    assert db.session.scalar(sa.select(sa.func.count()).where(
        Document.kind == DocumentKind.INVOICE)) == 0


def test_credit_notes_never_add_up_to_more_than_their_invoice(app):
    invoice = invoicing.issue_invoice(CSE, campaign_lines(cards=2, fee_cents=0),
                                      subject="campaign:3", issued_on=DAY)  # 2 × 50 €
    card = [invoicing.voucher_line("Carte annulée", quantity=1, face_value_cents=5000)]
    first = invoicing.issue_credit_note(invoice, card, reason="Départ", issued_on=DAY)
    second = invoicing.issue_credit_note(invoice, card, reason="Départ", issued_on=DAY)

    assert (first.number, second.number) == ("AV-2026-00001", "AV-2026-00002")
    assert first.related_id == second.related_id == invoice.id
    with pytest.raises(invoicing.InvoicingError) as refused:
        invoicing.issue_credit_note(invoice, card, reason="Départ", issued_on=DAY)
    assert refused.value.status_code == 409
    assert "0,00" in str(refused.value.message)


def test_a_credit_note_cancels_an_invoice_and_says_why(app):
    quote = invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:3", issued_on=DAY)
    invoice = invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:3", issued_on=DAY)
    card = [invoicing.voucher_line("Carte annulée", quantity=1, face_value_cents=5000)]
    with pytest.raises(invoicing.InvoicingError, match="Un avoir annule une facture"):
        invoicing.issue_credit_note(quote, card, reason="Départ")
    with pytest.raises(invoicing.InvoicingError, match="motif"):
        invoicing.issue_credit_note(invoice, card, reason="  ")


@pytest.mark.parametrize(("customer", "lines", "message"), [
    (invoicing.Customer("", "1 rue A"), None, "Le nom du client"),
    (invoicing.Customer("CSE", " "), None, "adresse postale"),
    (invoicing.Customer("CSE", "1 rue A", siret="73282932000075"), None, "SIRET du client"),
    (CSE, [], "au moins une ligne"),
    (CSE, [invoicing.Line("", 1, 100, VatTreatment.VOUCHER)], "désignation"),
    (CSE, [invoicing.Line("Cartes", 0, 100, VatTreatment.VOUCHER)], "quantité"),
    (CSE, [invoicing.Line("Frais", 1, -5, VatTreatment.VAT, 2000)], "prix unitaire"),
    # Only a voucher line may be negative (a credit deducted), never below the total's zero.
    (CSE, [invoicing.Line("Cartes", 1, -5, VatTreatment.VOUCHER)], "rendre négatif"),
    (CSE, [invoicing.Line("Frais", 1, 100, VatTreatment.VAT, 0)], "indiquer son taux"),
    (CSE, [invoicing.Line("Cartes", 1, 100, VatTreatment.VOUCHER, 2000)], "pas de taux de TVA"),
])
def test_bad_input_is_refused_and_takes_no_number(app, customer, lines, message):
    with pytest.raises(invoicing.InvoicingError, match=message) as refused:
        invoicing.issue_invoice(customer, campaign_lines() if lines is None else lines,
                                subject="campaign:3", issued_on=DAY)
    assert refused.value.status_code == 400
    # Checked before a number is taken: the next invoice is still the first of the year.
    assert invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:3",
                                   issued_on=DAY).number == "F-2026-00001"


def test_a_proforma_starts_awaiting_its_transfer(app):
    proforma = invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:3",
                                        issued_on=DAY)
    assert proforma.payment_status == PaymentStatus.AWAITING
    assert proforma.received_cents == 0 and proforma.balance_due_cents == 618000
    assert transfers.proforma_by_reference(f"VIR SEPA {proforma.transfer_reference} CSE") \
        == proforma
    assert transfers.proforma_by_reference("pf-2026-00001") == proforma
    assert transfers.proforma_by_reference("RF00NOTHING") is None
