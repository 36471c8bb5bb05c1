"""Transfers received against a pro-forma: only the exact amount pays it; less or more is a
discrepancy, said with what to do, never taken for a payment."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.models import BankTransfer, PaymentStatus
from tests.invoicing.helpers import CSE, campaign_lines

DAY = date(2026, 12, 1)
DUE = 618000  # 6 000 € of cards, 150 € of fee and 30 € of VAT


@pytest.fixture
def proforma(app):
    return invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:5", issued_on=DAY)


@pytest.fixture
def paid_signals():
    received = []

    def receiver(sender, **_):
        received.append(sender.number)

    transfers.proforma_paid.connect(receiver)
    yield received
    transfers.proforma_paid.disconnect(receiver)


def test_the_exact_amount_pays_the_proforma(proforma, paid_signals):
    outcome = transfers.record_transfer(proforma, amount_cents=DUE, received_on=DAY,
                                        bank_reference="VIR CSE RF56PF202600001")

    assert outcome.status == PaymentStatus.PAID and not outcome.is_discrepancy
    assert proforma.payment_status == PaymentStatus.PAID and proforma.received_cents == DUE
    assert "est payée" in str(outcome.message)
    assert paid_signals == ["PF-2026-00001"]
    assert outcome.transfer.bank_reference == "VIR CSE RF56PF202600001"
    assert transfers.awaiting_transfer() == []
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "invoicing.transfer_recorded"))
    assert entry.data == {"number": "PF-2026-00001", "amount_cents": DUE, "status": "paid"}


def test_a_partial_transfer_is_a_discrepancy_until_the_rest_arrives(proforma, paid_signals):
    outcome = transfers.record_transfer(proforma, amount_cents=600000, received_on=DAY)

    assert outcome.status == PaymentStatus.SHORT and outcome.is_discrepancy
    message = str(outcome.message).replace("\u202f", " ").replace("\u00a0", " ")
    assert "6 000,00 € reçus pour 6 180,00 € dus, il manque 180,00 €" in message
    assert "n'est pas payée" in message
    assert paid_signals == [] and transfers.awaiting_transfer() == [proforma]

    outcome = transfers.record_transfer(proforma, amount_cents=18000, received_on=DAY)
    assert outcome.status == PaymentStatus.PAID and paid_signals == ["PF-2026-00001"]
    assert [t.amount_cents for t in proforma.transfers] == [600000, 18000]


def test_an_excess_is_a_discrepancy_until_it_is_sent_back(proforma, paid_signals):
    outcome = transfers.record_transfer(proforma, amount_cents=DUE + 1000, received_on=DAY)

    assert outcome.status == PaymentStatus.EXCESS and outcome.is_discrepancy
    message = str(outcome.message).replace("\u202f", " ").replace("\u00a0", " ")
    assert "10,00 € de trop" in message and "n'est pas considérée comme payée" in message
    assert paid_signals == []
    with pytest.raises(invoicing.InvoicingError):
        invoicing.invoice_for_proforma(proforma)

    with pytest.raises(invoicing.InvoicingError, match="Seul un trop-perçu"):
        transfers.record_refund(proforma, amount_cents=1001, sent_on=DAY)
    outcome = transfers.record_refund(proforma, amount_cents=1000, sent_on=DAY,
                                      bank_reference="Remboursement trop-perçu")
    assert outcome.status == PaymentStatus.PAID and paid_signals == ["PF-2026-00001"]
    assert proforma.received_cents == DUE
    assert [t.amount_cents for t in proforma.transfers] == [DUE + 1000, -1000]


def test_a_transfer_after_payment_makes_an_excess(proforma):
    transfers.record_transfer(proforma, amount_cents=DUE, received_on=DAY)
    outcome = transfers.record_transfer(proforma, amount_cents=DUE, received_on=DAY)
    assert outcome.status == PaymentStatus.EXCESS  # paid twice: flagged, not swallowed


@pytest.mark.parametrize(("amount", "day", "message"), [
    (0, DAY, "supérieur à 0"),
    (-100, DAY, "supérieur à 0"),
    (1.5, DAY, "supérieur à 0"),
    (10**12, DAY, "trop élevé"),
    (DUE, DAY - timedelta(days=1), "antérieure à l'émission"),
    (DUE, date(2999, 1, 1), "dans le futur"),
])
def test_bad_transfers_are_refused_and_change_nothing(proforma, amount, day, message):
    with pytest.raises(invoicing.InvoicingError, match=message) as refused:
        transfers.record_transfer(proforma, amount_cents=amount, received_on=day)
    assert refused.value.status_code == 400
    assert proforma.received_cents == 0 and proforma.payment_status == PaymentStatus.AWAITING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankTransfer)) == 0


def test_a_transfer_is_recorded_against_a_proforma_only(app):
    quote = invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:5", issued_on=DAY)
    with pytest.raises(invoicing.InvoicingError, match="facture pro forma"):
        transfers.record_transfer(quote, amount_cents=DUE, received_on=DAY)
