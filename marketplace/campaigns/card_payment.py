"""Paying a campaign's pro-forma through the payment gateway, the two ways registered in
campaigns.payment_methods:

- "card": the checkout's gateway session (the demo page in development, Stripe Checkout in
  production), for an order with no goods (orders.services.open_payment_order) whose one line
  is the campaign;
- "stripe_transfer" (only when Stripe is configured): the same Checkout, but paid by bank
  transfer to the works council's virtual IBAN at Stripe (its Stripe customer, created once),
  the money matched by Stripe. The session completes unpaid when the manager has the bank
  details; `checkout.session.async_payment_succeeded` then pays the order, `..._failed` ends it.

Either way the order is paid by the one fulfilment of the payments domain (success page,
webhook, reconciliation), and the orders domain says so through `orders.signals`: before paying
an order, `order_paying` asks whether the campaign can still take it (refused: the payment is
refunded as a late one); once paid, `order_paid` marks the campaign paid. An unpaid order that
expires (the sweeper) or fails leaves the campaign quoted: it can be paid again, by any method.
Every attempt is a CampaignPayment row, so that money still arriving for an older attempt is
recognised as the campaign's.

Locks: an order's row, then its pro-forma's, then the campaign's (the fulfilment's order; a
transfer recorded against the pro-forma takes the last two in the same order); a new attempt
releases the previous orders before it locks the campaign, and a campaign paid otherwise ends
its open orders after its commit.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from marketplace import audit, uow
from marketplace.campaigns import billing, payment_methods
from marketplace.campaigns.models import Campaign, CampaignPayment, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.signals import campaign_paid
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter
from marketplace.invoicing import services as invoicing
from marketplace.invoicing.models import Document, DocumentKind, PaymentStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.signals import order_paid, order_paying
from marketplace.organizations.models import Organization
from marketplace.payments import services as payments
from marketplace.payments.gateway import gateway_named

log = logging.getLogger(__name__)

CARD = "card"
STRIPE_TRANSFER = "stripe_transfer"


def subject_of(campaign: Campaign) -> str:
    """The invoicing subject of a campaign's documents (invoicing.models.Document.subject)."""
    return f"campaign:{campaign.id}"


def stripe_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


# --- starting a payment ----------------------------------------------------------------------


def start_card(campaign: Campaign, proforma: Document, *, return_url: str | None = None,
               by=None) -> str:
    """The payment page where the works council pays `proforma` by card. The page sends the
    manager back to the order's own pages, whose success page confirms the payment at once
    (orders.checkout_success), not to `return_url`."""
    return _start(campaign, proforma, method=CARD, by=by)


def start_stripe_transfer(campaign: Campaign, proforma: Document, *,
                          return_url: str | None = None, by=None) -> str:
    """Stripe's page giving the works council's virtual IBAN, to pay `proforma` by transfer;
    it sends the manager back to `return_url` (the campaign page)."""
    if not stripe_configured():
        raise CampaignError(_l("Payment by bank transfer through the payment provider is not "
                               "available on this site."), status_code=409)
    return _start(campaign, proforma, method=STRIPE_TRANSFER, by=by, return_url=return_url)


payment_methods.register(CARD, _l("By card"), start_card)
payment_methods.register(STRIPE_TRANSFER, _l("By bank transfer to a dedicated IBAN (matched "
                                             "automatically)"), start_stripe_transfer,
                         offered=stripe_configured)


def _start(campaign: Campaign, proforma: Document, *, method: str, by=None,
           return_url: str | None = None) -> str:
    _check_payable(campaign, proforma)
    buyer_user = by or campaign.created_by
    organization = campaign.organization
    email = (getattr(buyer_user, "email", None) or organization.contact_email or "").strip()
    if not email:
        raise CampaignError(_l("Give the works council a contact email address first: the "
                               "payment confirmation is sent there."), status_code=409)
    # Gateway calls come first, with no lock held: the customer at Stripe, and whether a
    # transfer is already awaited for this campaign.
    customer = _stripe_customer(organization, email=email) if method == STRIPE_TRANSFER else None
    open_attempts = _open_attempts(campaign)
    for attempt in open_attempts:
        if attempt.method == STRIPE_TRANSFER and _awaiting_transfer(attempt.order):
            raise CampaignError(_l(
                "A bank transfer of %(amount)s is already awaited for this campaign (order "
                "%(reference)s): it is matched automatically when it arrives.",
                amount=money_filter(attempt.order.total_cents),
                reference=attempt.order.reference), status_code=409)
    # A new attempt replaces the open ones (their payment pages end once this is committed; a
    # payment still made there is refunded). Orders are locked before the campaign.
    for attempt in open_attempts:
        _end_attempt(attempt.order, reason="replaced by a new payment")
    (campaign,) = lock_rows(Campaign, [campaign.id])
    _check_payable(campaign, proforma)
    if method == STRIPE_TRANSFER:
        hold_until = utcnow() + timedelta(days=current_app.config["CAMPAIGN_TRANSFER_HOLD_DAYS"])
    else:
        hold_until = utcnow() + timedelta(minutes=current_app.config["HOLD_MINUTES"])
    locale = getattr(buyer_user, "locale", None) or "fr"
    with force_locale(locale):  # the order's language: its page, email and payment line
        description = str(_l("Works council campaign “%(name)s”, pro-forma %(number)s",
                             name=campaign.name, number=proforma.number))
    order = orders.open_payment_order(
        orders.Buyer(email=email, name=organization.name,
                     user_id=getattr(buyer_user, "id", None), locale=locale),
        total_cents=proforma.total_incl_vat_cents, description=description,
        hold_until=hold_until,
    )
    db.session.add(CampaignPayment(campaign_id=campaign.id, order_id=order.id,
                                   proforma_id=proforma.id, method=method,
                                   by_id=getattr(by, "id", None)))
    campaign.order_id = order.id
    db.session.flush()
    audit.record("campaign.payment_started", campaign, by=by, organization=organization, data={
        "name": campaign.name, "method": method, "reference": order.reference,
        "amount_cents": order.total_cents, "proforma": proforma.number})
    return _open_payment_page(order, customer, return_url)


def _open_payment_page(order: Order, customer: str | None, return_url: str | None) -> str:
    # Named durable step (docs/architecture.md): the order, its attempt and the campaign's
    # lock are committed before the gateway is asked for a payment page, as the checkout does.
    uow.durable_step(keep_state=True)
    return payments.start_payment(order, bank_transfer_customer=customer,
                                  return_url=return_url).url


def _check_payable(campaign: Campaign, proforma: Document) -> None:
    if (proforma is None or proforma.kind != DocumentKind.PROFORMA
            or proforma.subject != subject_of(campaign)):
        raise CampaignError(_l("This pro-forma is not this campaign's."), status_code=409)
    if campaign.status != CampaignStatus.QUOTED:
        raise CampaignError(_l("This campaign is not waiting for its payment."), status_code=409)
    if proforma.payment_status == PaymentStatus.PAID:
        raise CampaignError(_l("This pro-forma is already paid."), status_code=409)
    if _superseded(proforma):
        raise CampaignError(_l("A newer pro-forma replaces this one: pay that one."),
                            status_code=409)
    if proforma.total_incl_vat_cents <= 0:
        raise CampaignError(_l("There is nothing to pay."), status_code=409)


def _superseded(proforma: Document) -> bool:
    return any(document.kind == DocumentKind.PROFORMA and document.id > proforma.id
               for document in invoicing.documents_for(proforma.subject))


def _stripe_customer(organization: Organization, *, email: str) -> str:
    """The works council's customer at Stripe (its virtual IBAN): created once, then reused.
    Called with no lock held; the idempotency key gives the same customer to a concurrent
    request."""
    if organization.stripe_customer_id:
        return organization.stripe_customer_id
    customer_id = gateway_named("stripe").create_customer(
        email=organization.contact_email or email, name=organization.name,
        idempotency_key=f"customer-{organization.id}-{int(organization.created_at.timestamp())}")
    (organization,) = lock_rows(Organization, [organization.id])
    if not organization.stripe_customer_id:
        organization.stripe_customer_id = customer_id
        db.session.flush()
    return organization.stripe_customer_id


def _open_attempts(campaign: Campaign) -> list[CampaignPayment]:
    return list(db.session.scalars(
        sa.select(CampaignPayment).join(Order, Order.id == CampaignPayment.order_id)
        .where(CampaignPayment.campaign_id == campaign.id,
               Order.status == OrderStatus.PENDING_PAYMENT)
        .order_by(CampaignPayment.id)))


def _awaiting_transfer(order: Order) -> bool:
    """The manager has the bank details and the transfer has not arrived (the gateway's word)."""
    if not order.hold_is_active() or not order.checkout_session_id:
        return False
    state = gateway_named(order.payment_gateway or "stripe").retrieve_session(
        order.checkout_session_id)
    return state.status == "complete" and not state.is_paid


def _end_attempt(order: Order, *, reason: str) -> None:
    session_id = order.checkout_session_id
    if orders.release(order, status=OrderStatus.CANCELLED, reason=reason) and session_id:
        uow.after_commit(payments.expire_remote_session, session_id)


# --- what the orders domain says -------------------------------------------------------------


def attempt_of(order_id: int) -> CampaignPayment | None:
    return db.session.scalar(sa.select(CampaignPayment).where(CampaignPayment.order_id == order_id))


@order_paying.connect
def _may_be_paid(order: Order) -> bool | None:
    """Under the order's lock: can the campaign still take this payment? None for an order
    that is not a campaign's."""
    attempt = attempt_of(order.id)
    if attempt is None:
        return None
    # The pro-forma before the campaign, as a transfer recorded against it locks them
    # (invoicing.transfers, then the campaign paid): the payment is recorded on it too.
    (proforma,) = lock_rows(Document, [attempt.proforma_id])
    (campaign,) = lock_rows(Campaign, [attempt.campaign_id])
    payable = (campaign.status == CampaignStatus.QUOTED and not _superseded(proforma)
               and proforma.payment_status != PaymentStatus.PAID
               and order.total_cents == proforma.total_incl_vat_cents)
    if not payable:
        log.warning("Order %s pays campaign %s, which no longer takes it (%s): refunded",
                    order.reference, campaign.id, campaign.status.value)
    return payable


@order_paid.connect
def _order_paid(order: Order) -> None:
    attempt = attempt_of(order.id)
    if attempt is not None:
        record_payment(attempt, order)


@campaign_paid.connect
def _campaign_paid(campaign: Campaign) -> None:
    """Paid (by one of its orders, or by a transfer recorded against its pro-forma): its other
    open orders end once this is committed, with no campaign lock held."""
    uow.after_commit(end_open_orders, campaign.id)


def end_open_orders(campaign_id: int) -> int:
    """Cancel the campaign's orders still waiting for a payment (it is paid); their payment
    pages end after the commit. Returns how many were cancelled."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return 0
    ended = 0
    for attempt in _open_attempts(campaign):
        _end_attempt(attempt.order, reason="campaign paid")
        ended += 1
    return ended


# --- the recorder ----------------------------------------------------------------------------
# The one place where a gateway payment pays a campaign: through campaigns.billing, which
# records it against the pro-forma like a transfer and invoices it once the cards are issued.


def record_payment(attempt: CampaignPayment, order: Order) -> None:
    """The campaign's order is paid: the campaign is paid by it (its cards are to be issued).
    Runs inside mark_paid, under the order's and the campaign's locks (see _may_be_paid)."""
    campaign = attempt.campaign
    campaign.order_id = order.id
    # Recorded against the pro-forma as money received; paying it in full pays the campaign
    # (billing: proforma_paid -> services.mark_paid), and the invoice says how it was paid.
    billing.paid_by_card(campaign, order.amount_paid_cents, reference=order.reference,
                         proforma=attempt.proforma,
                         by_transfer=attempt.method == "stripe_transfer")
    audit.record("campaign.paid_online", campaign, organization=campaign.organization, data={
        "name": campaign.name, "method": attempt.method, "reference": order.reference,
        "amount_cents": order.amount_paid_cents, "proforma": attempt.proforma.number})
