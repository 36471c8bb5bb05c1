"""A campaign's documents: its quote, the pro-forma of the accepted quote, the invoice once the
cards are issued, and a credit note for each card cancelled before its sending date.

The invoicing domain (below) numbers and keeps the documents; this module says what they hold
(the works council as customer, the cards' face value grouped by amount, the platform's service
fee) and ties them to the campaign's states. Documents carry the subject "campaign:<id>".

- `get_quote` issues the quote and moves the campaign to "quoted"; the works council's credit
  from earlier campaigns (campaigns.credit) is deducted on a line of its own, which the
  pro-forma and the invoice copy. `withdraw_quote` goes back while the quote is not accepted,
  and gives the credit back, as cancelling does.
- `start_payment` accepts the quote: the pro-forma is issued (once per quote) and the chosen
  payment method (`payment_methods`) starts; "transfer", registered here, leaves the manager on
  the campaign page with the bank details and the transfer reference.
- A pro-forma paid in full (`invoicing.transfers.proforma_paid`: transfers recorded by the
  team, or `paid_by_card`) pays the campaign (`services.mark_paid`); a short or excess transfer
  pays nothing and stays flagged on the team's invoicing page.
- `signals.cards_issued` issues the invoice of the paid pro-forma.
- `cancel_card` blocks a card not yet sent, takes its balance off and issues the credit note.

The receivers are connected when this module is imported (the campaign views import it).
"""
from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.campaigns import credit, payment_methods, services
from marketplace.campaigns.labels import STATUS_LABELS
from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.signals import cards_issued
from marketplace.db import db, lock_rows
from marketplace.giftcards import services as giftcards
from marketplace.giftcards.models import CardStatus, GiftCard
from marketplace.i18n import format_day, format_rate, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.models import Document, DocumentKind, PaymentStatus
from marketplace.money import commission_cents
from marketplace.organizations.models import Organization

log = logging.getLogger(__name__)

SUBJECT_PREFIX = "campaign:"


def subject_of(campaign: Campaign) -> str:
    return f"{SUBJECT_PREFIX}{campaign.id}"


def campaign_of(subject: str | None) -> Campaign | None:
    """The campaign a document is for, or None (a document of another domain)."""
    if not subject or not subject.startswith(SUBJECT_PREFIX):
        return None
    number = subject[len(SUBJECT_PREFIX):]
    return db.session.get(Campaign, int(number)) if number.isdigit() else None


# --- what the documents say ------------------------------------------------------------------

def customer_of(organization: Organization) -> invoicing.Customer:
    """The works council as the documents name it: its name, postal address and SIRET."""
    return invoicing.Customer(
        name=organization.name,
        address=f"{organization.address_line}\n{organization.postcode} {organization.town}",
        siret=organization.siret or None)


def service_fee_bp() -> int:
    rate = current_app.config["CAMPAIGN_SERVICE_FEE_BP"]
    if not isinstance(rate, int) or isinstance(rate, bool) or not 0 <= rate <= 10000:
        raise RuntimeError("CAMPAIGN_SERVICE_FEE_BP is a rate in basis points (250 = 2.5 %).")
    return rate


def service_fee_cents(face_value_cents: int) -> int:
    """The platform's fee before VAT on a campaign's face value (rounded half up)."""
    return commission_cents(face_value_cents, service_fee_bp())


def quote_lines(campaign: Campaign) -> list[invoicing.Line]:
    """The cards at face value, one line per amount (no VAT: multi-purpose vouchers), then the
    service fee (with VAT). In French, as every document."""
    rows = db.session.execute(
        sa.select(Beneficiary.amount_cents, sa.func.count(Beneficiary.id).label("cards"))
        .where(Beneficiary.campaign_id == campaign.id)
        .group_by(Beneficiary.amount_cents).order_by(Beneficiary.amount_cents.desc())).all()
    if not rows:
        raise CampaignError(_l("The beneficiaries are not imported."), status_code=409)
    with force_locale("fr"):
        lines = [invoicing.voucher_line(
            _("Gift cards “%(name)s” of %(amount)s (face value)", name=campaign.name,
              amount=money_filter(row.amount_cents)),
            quantity=int(row.cards), face_value_cents=int(row.amount_cents)) for row in rows]
        face_value = sum(row.amount_cents * row.cards for row in rows)
        fee = service_fee_cents(face_value)
        if fee:
            lines.append(invoicing.service_fee_line(
                _("Platform service fee: %(rate)s of the face value of %(amount)s",
                  rate=format_rate(service_fee_bp()), amount=money_filter(face_value)),
                amount_excl_vat_cents=fee))
    return lines


# --- finding the documents -------------------------------------------------------------------

def documents(campaign: Campaign) -> list[Document]:
    """Every document of the campaign, oldest first."""
    return invoicing.documents_for(subject_of(campaign))


def document_of(campaign: Campaign, document_id: int) -> Document | None:
    """One of the campaign's documents, or None (another campaign's, or none)."""
    document = db.session.get(Document, document_id)
    if document is None or document.subject != subject_of(campaign):
        return None
    return document


def current_quote(campaign: Campaign) -> Document | None:
    """The quote the campaign stands on while quoted (or was paid on), the latest issued."""
    if campaign.status not in (CampaignStatus.QUOTED, CampaignStatus.PAID, CampaignStatus.ISSUED):
        return None
    return db.session.scalar(sa.select(Document).where(
        Document.subject == subject_of(campaign), Document.kind == DocumentKind.QUOTE)
        .order_by(Document.id.desc()).limit(1))


def proforma_of(quote: Document | None) -> Document | None:
    """The pro-forma issued when the quote was accepted, if it was."""
    if quote is None:
        return None
    return db.session.scalar(sa.select(Document).where(
        Document.related_id == quote.id, Document.kind == DocumentKind.PROFORMA)
        .order_by(Document.id.desc()).limit(1))


def invoice_of(campaign: Campaign) -> Document | None:
    return db.session.scalar(sa.select(Document).where(
        Document.subject == subject_of(campaign), Document.kind == DocumentKind.INVOICE)
        .order_by(Document.id).limit(1))


# --- the quote -------------------------------------------------------------------------------

def get_quote(campaign: Campaign, *, by) -> Document:
    """Issue the numbered quote of a campaign ready for it (services.ready_for_quote) and move
    it to "quoted"."""
    services.mark_quoted(campaign, by=by)  # locks the campaign, refuses one not ready
    lines = quote_lines(campaign)
    deducted = credit.deduction(campaign, lines)  # locks the council's credits
    if deducted:
        lines.append(credit.credit_line(deducted))
    quote = invoicing.issue_quote(customer_of(campaign.organization), lines,
                                  subject=subject_of(campaign), by=by)
    if deducted:
        credit.record(campaign, quote, deducted)
    return quote


def withdraw_quote(campaign: Campaign, *, by) -> None:
    """Back to the list of beneficiaries (to change it, then quote again), unless the quote was
    accepted: a pro-forma may be being paid."""
    lock_rows(Campaign, [campaign.id])
    if campaign.status != CampaignStatus.QUOTED:
        raise CampaignError(_l("This campaign has no quote."), status_code=409)
    if proforma_of(current_quote(campaign)):
        raise CampaignError(_l("The quote was accepted and its pro-forma issued: it can no longer "
                               "be withdrawn."), status_code=409)
    services.withdraw_quote(campaign, by=by)
    credit.release(campaign)


def may_cancel(campaign: Campaign) -> bool:
    """The works council may still cancel: not paid, and no money received on its pro-forma."""
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.BENEFICIARIES_IMPORTED,
                               CampaignStatus.QUOTED):
        return False
    proforma = proforma_of(current_quote(campaign))
    return proforma is None or proforma.received_cents == 0


def cancel(campaign: Campaign, *, by, reason: str | None = None) -> None:
    """Cancel the campaign, unless money was received on its pro-forma (then the team settles
    it). A transfer that arrives later for a cancelled campaign is refused (_on_proforma_paid)."""
    lock_rows(Campaign, [campaign.id])
    if campaign.status == CampaignStatus.QUOTED and not may_cancel(campaign):
        raise CampaignError(_l("Money was received for this campaign: it can no longer be "
                               "cancelled here. Write to the platform's team."), status_code=409)
    services.cancel(campaign, by=by, reason=reason)
    credit.release(campaign)


def accept_quote(campaign: Campaign, *, by, today: date | None = None) -> Document:
    """The pro-forma of the campaign's quote, issued on the first acceptance (the same one is
    returned afterwards, whatever the payment method chosen)."""
    lock_rows(Campaign, [campaign.id])
    if campaign.status != CampaignStatus.QUOTED:
        raise CampaignError(_l("Only a campaign with a quote waiting for payment can accept it."),
                            status_code=409)
    quote = current_quote(campaign)
    if quote is None:  # a quoted campaign always has its quote
        raise CampaignError(_l("This campaign has no quote."), status_code=409)
    proforma = proforma_of(quote)
    if proforma is not None:
        return proforma
    today = today or invoicing.local_today()
    if quote.due_on is not None and quote.due_on < today:
        raise CampaignError(_l("Quote %(number)s expired on %(date)s: withdraw it and get a new "
                               "one.", number=quote.number, date=format_day(quote.due_on, "long")),
                            status_code=409)
    return invoicing.proforma_from_quote(quote, by=by)


def start_payment(campaign: Campaign, method_name: str, *, return_url: str, by) -> str | None:
    """Accept the quote and start the chosen payment method: the URL to go to, or None."""
    start = next((start for name, _label, start in payment_methods.available()
                  if name == method_name), None)
    if start is None:
        raise CampaignError(_l("Choose how you pay."), status_code=400)
    proforma = accept_quote(campaign, by=by)
    return start(campaign, proforma, return_url=return_url)


def _start_transfer(campaign: Campaign, proforma: Document, *, return_url: str) -> None:
    """By bank transfer: the pro-forma carries the bank details and the reference, which the
    campaign page shows; the team records the transfer when the bank shows it."""
    return None


payment_methods.register("transfer", _l("Bank transfer (pro-forma with our bank details)"),
                         _start_transfer)


def payment_message(proforma: Document):
    """What the works council is told of its pro-forma's payment."""
    due, received = proforma.total_incl_vat_cents, proforma.received_cents
    if proforma.payment_status == PaymentStatus.PAID:
        return _l("Your payment of %(amount)s was received.", amount=money_filter(received))
    if proforma.payment_status == PaymentStatus.SHORT:
        return _l("We received %(received)s of %(due)s: %(missing)s is missing. Transfer the rest "
                  "with the same reference.", received=money_filter(received),
                  due=money_filter(due), missing=money_filter(due - received))
    if proforma.payment_status == PaymentStatus.EXCESS:
        return _l("We received %(received)s, %(excess)s more than the %(due)s due: our team will "
                  "send the excess back to you, then the campaign is paid.",
                  received=money_filter(received), excess=money_filter(received - due),
                  due=money_filter(due))
    return _l("We are waiting for your transfer of %(amount)s.", amount=money_filter(due))


# --- payment received ------------------------------------------------------------------------

def paid_by_card(campaign: Campaign, amount_cents: int, *, reference: str,
                 proforma: Document | None = None, paid_on: date | None = None,
                 by_transfer: bool = False, by=None) -> transfers.TransferOutcome:
    """A gateway payment of the accepted quote went through (called by the card payment's
    fulfilment, campaigns.card_payment.record_payment, inside its unit of work, instead of
    services.mark_paid): it is recorded against the campaign's pro-forma (`proforma`, by default
    the one of its current quote) as money received, labelled "Paiement par carte <reference>"
    (`by_transfer`: a bank transfer the gateway matched, labelled "Virement <reference>"; the
    invoice then says paid by transfer, otherwise by card).
    Exactly the amount due pays the pro-forma, whose `proforma_paid` signal pays the campaign
    (services.mark_paid, hence campaign_paid and the cards' issuance), and the invoice follows
    the cards as for a transfer; another amount is flagged on the team's invoicing page and pays
    nothing. Returns the outcome (its status says which)."""
    proforma = proforma or proforma_of(current_quote(campaign))
    if proforma is None or proforma.subject != subject_of(campaign):
        raise CampaignError(_l("This campaign's quote was not accepted: there is nothing to "
                               "pay."), status_code=409)
    paid_on = paid_on or invoicing.local_today()
    if by_transfer:
        return transfers.record_transfer(
            proforma, amount_cents=amount_cents, received_on=paid_on,
            bank_reference=f"Virement {(reference or '').strip()}"[:140], by=by)
    return transfers.record_card_payment(proforma, amount_cents=amount_cents, paid_on=paid_on,
                                         reference=reference, by=by)


@transfers.proforma_paid.connect
def _on_proforma_paid(proforma: Document, **_extra) -> None:
    """A campaign's pro-forma is paid in full: the campaign is paid (once)."""
    campaign = campaign_of(proforma.subject)
    if campaign is None:
        return
    lock_rows(Campaign, [campaign.id])
    if campaign.status in (CampaignStatus.PAID, CampaignStatus.ISSUED):
        return  # paid already (an excess sent back makes the pro-forma paid again)
    if campaign.status != CampaignStatus.QUOTED:
        raise CampaignError(_l(
            "Pro-forma %(number)s is for the campaign “%(name)s”, which no longer waits for it "
            "(%(status)s): the payment cannot be taken. Send it back to the works council.",
            number=proforma.number, name=campaign.name, status=STATUS_LABELS[campaign.status]),
            status_code=409)
    services.mark_paid(campaign, by=None)


@cards_issued.connect
def _on_cards_issued(campaign: Campaign, **_extra) -> None:
    """Every card is issued: the invoice of the paid pro-forma (once)."""
    proforma = db.session.scalar(sa.select(Document).where(
        Document.subject == subject_of(campaign), Document.kind == DocumentKind.PROFORMA,
        Document.payment_status == PaymentStatus.PAID).order_by(Document.id.desc()).limit(1))
    if proforma is None:
        # Paid some other way than through a pro-forma: nothing to invoice from here.
        log.warning("campaign %s issued without a paid pro-forma: no invoice", campaign.id)
        return
    invoicing.invoice_for_proforma(proforma)


# --- credit notes ----------------------------------------------------------------------------

def card_cancelled(card: GiftCard | None) -> bool:
    return card is not None and card.status == CardStatus.BLOCKED and card.balance_cents == 0


def cancellable(campaign: Campaign, *, today: date | None = None) -> bool:
    """Cards of this campaign may still be cancelled (issued, not yet sent)."""
    today = today or invoicing.local_today()
    return campaign.status == CampaignStatus.ISSUED and today < campaign.send_on


def cancel_card(campaign: Campaign, beneficiary: Beneficiary, *, reason: str, by,
                today: date | None = None) -> Document:
    """Cancel a beneficiary's card before its sending date: the card is blocked, its balance
    taken off, and a credit note of its face value issued against the campaign's invoice."""
    lock_rows(Campaign, [campaign.id])
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError(_l("Say why the card is cancelled."), field="reason", status_code=400)
    if len(reason) > 200:
        raise CampaignError(_l("The reason is too long (200 characters at most)."),
                            field="reason", status_code=400)
    if beneficiary.campaign_id != campaign.id:
        raise CampaignError(_l("This beneficiary is not in this campaign."), status_code=404)
    if campaign.status != CampaignStatus.ISSUED:
        raise CampaignError(_l("Only the cards of a campaign whose cards are issued can be "
                               "cancelled."), status_code=409)
    if not cancellable(campaign, today=today):
        raise CampaignError(_l("The cards were sent on %(date)s: they can no longer be cancelled.",
                               date=format_day(campaign.send_on, "long")), status_code=409)
    invoice = invoice_of(campaign)
    if beneficiary.card_id is None or invoice is None:
        raise CampaignError(_l("This beneficiary has no card yet."), status_code=409)
    (card,) = lock_rows(GiftCard, [beneficiary.card_id])
    if card.status == CardStatus.BLOCKED or card.balance_cents != card.initial_cents:
        raise CampaignError(_l("This card was already cancelled, blocked or used: it cannot be "
                               "credited."), status_code=409)
    with force_locale("fr"):
        why = _("Card of %(name)s (line %(line)s) cancelled before it was sent: %(reason)s",
                name=beneficiary.full_name, line=beneficiary.line, reason=reason)[:500]
        description = _("Gift card “%(name)s” of %(holder)s, cancelled before it was sent",
                        name=campaign.name, holder=beneficiary.full_name)[:300]
    giftcards.block(card.id, reason=reason, by=by)
    giftcards.adjust(card.id, -card.balance_cents, reason=reason, by=by)
    return invoicing.issue_credit_note(
        invoice, [invoicing.voucher_line(description, quantity=1,
                                         face_value_cents=beneficiary.amount_cents)],
        reason=why, by=by)
