"""Bank transfers received against pro-formas: recorded by the team as the bank shows them,
and compared with what is due. Only the exact amount pays a pro-forma; less or more is a
discrepancy, flagged with what to do, never taken for a payment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from blinker import Namespace

from marketplace import audit
from marketplace.db import db, lock_rows
from marketplace.i18n import LazyText, format_day, local_today, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.invoicing.models import BankTransfer, Document, DocumentKind, PaymentStatus
from marketplace.invoicing.references import find_reference
from marketplace.invoicing.services import InvoicingError

signals = Namespace()
# Sent (sender: the pro-forma) inside the unit of work when the transfers received add up to
# exactly what is due. A pro-forma whose excess is refunded becomes paid again, so a receiver
# must be safe to run twice for the same pro-forma.
proforma_paid = signals.signal("proforma-paid")

MAX_TRANSFER_CENTS = 100_000_000_00  # one million euros: above, a typo rather than a transfer


@dataclass(frozen=True)
class TransferOutcome:
    transfer: BankTransfer
    status: PaymentStatus
    message: LazyText

    @property
    def is_discrepancy(self) -> bool:
        return self.status in (PaymentStatus.SHORT, PaymentStatus.EXCESS)


def record_transfer(proforma: Document, *, amount_cents: int, received_on: date,
                    bank_reference: str = "", by=None) -> TransferOutcome:
    """A transfer of `amount_cents` received on `received_on` for this pro-forma. The
    pro-forma's status then says what all its transfers add up to: paid (exactly the amount
    due), short or excess (a discrepancy: the message says by how much and what to do)."""
    return _record(proforma, amount_cents, received_on, bank_reference, by, refund=False)


# The label of a card payment recorded against a pro-forma (record_card_payment): money that
# came through the card gateway rather than the bank; the invoice then says "paid by card".
CARD_PAYMENT_LABEL = "Paiement par carte"


def record_card_payment(proforma: Document, *, amount_cents: int, paid_on: date,
                        reference: str = "", by=None) -> TransferOutcome:
    """A card payment of the pro-forma (the gateway's), recorded as money received like a
    transfer, labelled CARD_PAYMENT_LABEL and the payment's reference."""
    label = f"{CARD_PAYMENT_LABEL} {(reference or '').strip()}".strip()[:140]
    return _record(proforma, amount_cents, paid_on, label, by, refund=False)


def paid_by_card(proforma: Document) -> bool:
    """Every payment received on the pro-forma came by card (record_card_payment)."""
    received = [t for t in proforma.transfers if t.amount_cents > 0]
    return bool(received) and all(t.bank_reference.startswith(CARD_PAYMENT_LABEL)
                                  for t in received)


def record_refund(proforma: Document, *, amount_cents: int, sent_on: date,
                  bank_reference: str = "", by=None) -> TransferOutcome:
    """Money the platform sent back to the customer (an excess returned): it comes off what
    was received, and a pro-forma whose excess is returned in full becomes paid."""
    return _record(proforma, amount_cents, sent_on, bank_reference, by, refund=True)


def _record(proforma, amount_cents, received_on, bank_reference, by, *, refund):
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvoicingError(_l("The amount must be more than 0 €."))
    if amount_cents > MAX_TRANSFER_CENTS:
        raise InvoicingError(_l("The amount is too large: check the figure."))
    if received_on > local_today():
        raise InvoicingError(_l("The date cannot be in the future."))
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > 140:
        raise InvoicingError(_l("The bank's label is too long (140 characters at most)."))
    (proforma,) = lock_rows(Document, [proforma.id])  # transfers of one pro-forma in turn
    if proforma.kind != DocumentKind.PROFORMA:
        raise InvoicingError(_l("Transfers are recorded against a pro-forma."))
    if received_on < proforma.issued_on:
        raise InvoicingError(_l("The date is before the pro-forma was issued (%(date)s).",
                                date=format_day(proforma.issued_on, "long")))
    if refund and amount_cents > proforma.received_cents - proforma.total_incl_vat_cents:
        raise InvoicingError(_l(
            "Only an excess is sent back here: %(excess)s was received beyond what is due.",
            excess=money_filter(max(proforma.received_cents - proforma.total_incl_vat_cents, 0))))
    before = proforma.payment_status
    signed = -amount_cents if refund else amount_cents
    transfer = BankTransfer(document=proforma, amount_cents=signed, received_on=received_on,
                            bank_reference=bank_reference,
                            recorded_by_id=getattr(by, "id", None))
    db.session.add(transfer)
    proforma.received_cents += signed
    proforma.payment_status = status_of(proforma.received_cents, proforma.total_incl_vat_cents)
    db.session.flush()
    audit.record("invoicing.refund_sent" if refund else "invoicing.transfer_recorded", proforma,
                 by=by, data={"number": proforma.number, "amount_cents": amount_cents,
                              "status": proforma.payment_status.value})
    if proforma.payment_status == PaymentStatus.PAID and before != PaymentStatus.PAID:
        proforma_paid.send(proforma)
    return TransferOutcome(transfer, proforma.payment_status, status_message(proforma))


def status_of(received_cents: int, due_cents: int) -> PaymentStatus:
    if received_cents == 0:
        return PaymentStatus.AWAITING
    if received_cents == due_cents:
        return PaymentStatus.PAID
    return PaymentStatus.SHORT if received_cents < due_cents else PaymentStatus.EXCESS


def status_message(proforma: Document) -> LazyText:
    """What the pro-forma's transfers add up to, in a sentence for the team."""
    due, received = proforma.total_incl_vat_cents, proforma.received_cents
    status = proforma.payment_status
    if status == PaymentStatus.PAID:
        return _l("Pro-forma %(number)s is paid: %(received)s received, the amount due.",
                  number=proforma.number, received=money_filter(received))
    if status == PaymentStatus.SHORT:
        return _l("Discrepancy on pro-forma %(number)s: %(received)s received of %(due)s due, "
                  "%(missing)s missing. It is not paid: ask the customer for the rest, and "
                  "record the next transfer when it arrives.",
                  number=proforma.number, received=money_filter(received),
                  due=money_filter(due), missing=money_filter(due - received))
    if status == PaymentStatus.EXCESS:
        return _l("Discrepancy on pro-forma %(number)s: %(received)s received of %(due)s due, "
                  "%(excess)s too much. It is not counted as paid: send the excess back to the "
                  "customer and record it, or check that the transfer was meant for this "
                  "pro-forma.",
                  number=proforma.number, received=money_filter(received),
                  due=money_filter(due), excess=money_filter(received - due))
    return _l("Pro-forma %(number)s awaits a transfer of %(due)s.",
              number=proforma.number, due=money_filter(due))


def proforma_by_reference(text: str) -> Document | None:
    """The pro-forma whose transfer reference appears in `text` (a bank statement's label),
    or whose number it is."""
    reference = find_reference(text)
    if reference is not None:
        found = db.session.scalar(sa.select(Document).where(
            Document.transfer_reference == reference))
        if found is not None:
            return found
    number = (text or "").strip().upper()
    return db.session.scalar(sa.select(Document).where(
        Document.number == number, Document.kind == DocumentKind.PROFORMA))


def awaiting_transfer() -> list[Document]:
    """Pro-formas not paid yet, or whose transfers do not match: oldest first."""
    return list(db.session.scalars(sa.select(Document).where(
        Document.kind == DocumentKind.PROFORMA,
        Document.payment_status.in_([PaymentStatus.AWAITING, PaymentStatus.SHORT,
                                     PaymentStatus.EXCESS]))
        .order_by(Document.issued_on, Document.id)))
