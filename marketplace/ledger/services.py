"""Crediting sellers (sales, card redemptions, donations), debiting refunds, and payouts.

Each entry names its source (UNIQUE): crediting the same sale twice is impossible. A seller's
balance is the sum of its entries. A payout locks the organization row, re-reads the balance,
writes the payout and its negative entry, makes that durable (a named durable step: the lock is
released and the intent on disk), and only then calls Stripe, with the payout id as idempotency
key; Stripe's answer is recorded at once (a second durable step) before the next seller's
transfer is asked for; a refused transfer puts the amount back.

The domains below the ledger do not call it: it hears them (receivers at the end). A paid
order's parts are credited on `orders.signals.order_sold`, a refund of a part debited on
`payments.signals.part_refunded`, a card given to an association credited on
`giftcards.signals.card_donated`; the counter debit of a card writes the seller's entry in its
own statement, with the commission and the table the ledger registers
(`giftcards.counter_credit`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace import audit, money, uow
from marketplace.db import db, lock_rows, utcnow
from marketplace.giftcards import counter_credit
from marketplace.giftcards.signals import card_donated
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout, PayoutStatus
from marketplace.orders.services import commission_rate_bp
from marketplace.orders.signals import order_sold
from marketplace.organizations.models import Organization
from marketplace.payments.gateway import GatewayError, get_gateway
from marketplace.payments.signals import part_refunded

log = logging.getLogger(__name__)


def _add(organization_id: int, kind: EntryKind, amount_cents: int, *, source: str,
         gross_cents: int = 0, commission_cents: int = 0, reference: str = "",
         payout_id=None, source_is_new: bool = False) -> LedgerEntry | None:
    """Write the entry unless its source was already written (then None). `source_is_new`:
    the caller holds the lock that makes this the first time (no look-up, no savepoint)."""
    entry = LedgerEntry(organization_id=organization_id, kind=kind, amount_cents=amount_cents,
                        gross_cents=gross_cents, commission_cents=commission_cents,
                        source=source, reference=reference[:60], payout_id=payout_id)
    if source_is_new:
        db.session.add(entry)
        db.session.flush()
        return entry
    if db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.source == source)):
        return None
    try:
        with uow.savepoint():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:  # written at the same moment by another process
        return None
    return entry


def credit_sale(part) -> LedgerEntry | None:
    """A paid order part: the seller is owed what was stored at payment (subtotal - commission).
    Called once, by the payment that turns the part paid under its order's lock."""
    return _add(part.organization_id, EntryKind.SALE, part.seller_amount_cents,
                source=f"sale:{part.id}", gross_cents=part.subtotal_cents,
                commission_cents=part.commission_cents or 0,
                reference=part.order.reference or "", source_is_new=True)


def debit_refund(refund, part) -> LedgerEntry | None:
    """Money given back for a part: the seller's share of it comes off (the commission on it
    is given back to the seller by the same rule it was taken)."""
    if part is None or not part.subtotal_cents:
        return None
    rate = part.commission_rate_bp or 0
    commission = money.commission_cents(refund.amount_cents, rate)
    return _add(part.organization_id, EntryKind.REFUND, -(refund.amount_cents - commission),
                source=f"refund:{refund.id}", gross_cents=-refund.amount_cents,
                commission_cents=-commission, reference=part.order.reference or "")


def card_commission(gross_cents: int, organization: Organization) -> int:
    return money.commission_cents(gross_cents, commission_rate_bp(organization))


def credit_card_redemption(transaction, organization: Organization) -> LedgerEntry:
    """A card spent at the seller's counter, in the card debit's unit of work (the transaction
    is new, so its source is too)."""
    gross = -transaction.amount_cents
    commission = card_commission(gross, organization)
    db.session.flush()  # the card transaction's id names the entry
    return _add(organization.id, EntryKind.CARD, gross - commission, source=f"card:{transaction.id}",
                gross_cents=gross, commission_cents=commission,
                reference=f"card {transaction.card_id}", source_is_new=True)


def credit_donation(transaction, association: Organization) -> LedgerEntry | None:
    """A card given to an association, in the donation's unit of work (the transaction was
    just written, so its source is new too)."""
    gross = -transaction.amount_cents
    return _add(association.id, EntryKind.DONATION, gross, source=f"donation:{transaction.id}",
                gross_cents=gross, reference=f"card {transaction.card_id}", source_is_new=True)


def balance(organization_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0))
        .where(LedgerEntry.organization_id == organization_id)
    )


def entries(organization_id: int, *, limit: int = 200) -> list[LedgerEntry]:
    return list(db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.organization_id == organization_id)
        .order_by(LedgerEntry.id.desc()).limit(limit)
    ))


def payouts(organization_id: int) -> list[Payout]:
    return list(db.session.scalars(
        sa.select(Payout).where(Payout.organization_id == organization_id)
        .order_by(Payout.id.desc())
    ))


# --- payouts -------------------------------------------------------------------------------

@dataclass
class PayoutRun:
    paid: list[Payout] = field(default_factory=list)
    failed: list[Payout] = field(default_factory=list)
    without_account: list[tuple[Organization, int]] = field(default_factory=list)
    below_minimum: list[tuple[Organization, int]] = field(default_factory=list)


def run_payouts(*, gateway=None) -> PayoutRun:
    """One payout per seller whose balance reaches PAYOUT_MINIMUM_CENTS and that has a
    connected account with payouts enabled; the others are listed, not paid."""
    gateway = gateway or get_gateway()
    minimum = current_app.config["PAYOUT_MINIMUM_CENTS"]
    run = PayoutRun()
    owed = set(db.session.scalars(
        sa.select(LedgerEntry.organization_id)
        .group_by(LedgerEntry.organization_id)
        .having(sa.func.sum(LedgerEntry.amount_cents) > 0)))
    # A run stopped after recording a payout (its amount already taken off the balance) and
    # before hearing from the gateway left it pending: its seller owes nothing any more, but
    # the transfer must still be asked for, with the same key.
    pending = set(db.session.scalars(
        sa.select(Payout.organization_id).where(Payout.status == PayoutStatus.PENDING)))
    for organization_id in sorted(owed | pending):
        payout = _start_payout(organization_id, minimum, run)
        if payout is None:
            continue
        # Named durable step: the payout's intent (and the balance it takes) is on disk, and
        # the organization's lock released, before Stripe is asked for the transfer.
        uow.durable_step()
        try:
            transfer_id = gateway.transfer(
                amount_cents=payout.amount_cents, destination=payout.destination,
                idempotency_key=f"payout-{payout.id}", description=f"Payout {payout.id}")
        except GatewayError as exc:
            if not exc.definite:
                # Unknown outcome: leave it pending; the next run retries with the same key.
                log.warning("payout %s: no answer from the gateway, will retry", payout.id)
                continue
            run.failed.append(_fail(payout.id, exc.detail or str(exc.message)))
        else:
            run.paid.append(_finish(payout.id, transfer_id))
        # Named durable step: Stripe's answer is recorded before the next seller's transfer is
        # asked for; a failure further on must not lose a transfer that was made.
        uow.durable_step()
    return run


def _start_payout(organization_id: int, minimum: int, run: PayoutRun) -> Payout | None:
    (organization,) = lock_rows(Organization, [organization_id])
    pending = db.session.scalar(sa.select(Payout).where(
        Payout.organization_id == organization_id, Payout.status == PayoutStatus.PENDING))
    if pending is not None:  # an earlier run did not hear back: send it again, same key
        return pending
    amount = balance(organization_id)
    if amount < minimum:
        run.below_minimum.append((organization, amount))
        return None
    if not organization.stripe_account_id or not organization.payouts_enabled:
        run.without_account.append((organization, amount))
        return None
    payout = Payout(organization_id=organization_id, amount_cents=amount,
                    destination=organization.stripe_account_id)
    db.session.add(payout)
    db.session.flush()
    _add(organization_id, EntryKind.PAYOUT, -amount, source=f"payout:{payout.id}",
         reference=f"payout {payout.id}", payout_id=payout.id, source_is_new=True)
    audit.record("payout.started", organization, data={"payout_id": payout.id,
                                                      "amount_cents": amount})
    return payout


def _finish(payout_id: int, transfer_id: str) -> Payout:
    (payout,) = lock_rows(Payout, [payout_id])
    payout.status = PayoutStatus.PAID
    payout.transfer_id = transfer_id
    payout.paid_at = utcnow()
    audit.record("payout.paid", payout, organization=payout.organization,
                 data={"transfer_id": transfer_id, "amount_cents": payout.amount_cents})
    return payout


def _fail(payout_id: int, detail: str) -> Payout:
    (payout,) = lock_rows(Payout, [payout_id])
    payout.status = PayoutStatus.FAILED
    payout.failure = detail[:300]
    _add(payout.organization_id, EntryKind.PAYOUT_FAILED, payout.amount_cents,
         source=f"payout-failed:{payout.id}", reference=f"payout {payout.id}",
         payout_id=payout.id)
    audit.record("payout.failed", payout, organization=payout.organization,
                 data={"detail": detail[:300]})
    return payout


# --- Stripe Connect onboarding ---------------------------------------------------------------

def start_onboarding(organization: Organization, *, refresh_url: str, return_url: str,
                     gateway=None) -> str:
    """The URL where the seller opens (or finishes) its Express account."""
    gateway = gateway or get_gateway()
    if organization.stripe_account_id:
        return gateway.onboarding_link(organization.stripe_account_id, refresh_url=refresh_url,
                                       return_url=return_url)
    # Both gateway calls before the lock (never a gateway call with a lock held): the
    # idempotency key gives the same account to a concurrent request.
    account_id = gateway.create_connected_account(
        email=organization.contact_email or "", name=organization.name,
        idempotency_key=f"connect-{organization.id}")
    try:
        link, failed = gateway.onboarding_link(account_id, refresh_url=refresh_url,
                                               return_url=return_url), None
    except GatewayError as exc:
        link, failed = None, exc
    (organization,) = lock_rows(Organization, [organization.id])
    if not organization.stripe_account_id:
        # Recorded even when the link failed: the account exists at Stripe (the page that says
        # so is a redirect, and its unit commits).
        organization.stripe_account_id = account_id
        audit.record("payouts.account_created", organization, data={"account": account_id})
    elif organization.stripe_account_id != account_id:  # made meanwhile by another way
        return gateway.onboarding_link(organization.stripe_account_id, refresh_url=refresh_url,
                                       return_url=return_url)
    if failed is not None:
        raise failed
    return link


def refresh_account(organization: Organization, *, gateway=None) -> bool:
    if not organization.stripe_account_id:
        return False
    gateway = gateway or get_gateway()
    enabled = gateway.payouts_enabled(organization.stripe_account_id)
    if enabled != organization.payouts_enabled:
        (organization,) = lock_rows(Organization, [organization.id])
        organization.payouts_enabled = enabled
        audit.record("payouts.account_updated", organization, data={"payouts_enabled": enabled})
    return enabled


# --- what the domains below say --------------------------------------------------------------

counter_credit.register(card_commission=card_commission, entry_model=LedgerEntry,
                        entry_kinds=EntryKind)


@order_sold.connect
def _order_sold(order) -> None:
    """Each part of a paid order: its seller is owed what was fixed at payment."""
    for part in order.parts:
        credit_sale(part)


@part_refunded.connect
def _part_refunded(refund, *, part) -> None:
    debit_refund(refund, part)


@card_donated.connect
def _card_donated(transaction, *, association) -> None:
    credit_donation(transaction, association)
