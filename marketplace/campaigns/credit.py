"""The works council's credit from the value its employees left unspent (UnspentPolicy.CREDIT,
recorded at expiry by campaigns.closing as CampaignCredit rows), deducted from its next
campaigns.

- `available_cents`: what was credited less what quotes still hold (CampaignCreditUse rows not
  released).
- `deduct` (called by billing.get_quote, under the campaign's lock): takes what is available,
  at most the face value of the new campaign's cards (the service fee is paid in any case, and
  the total never goes below zero), under the row locks of the council's credits, so that two
  quotes issued at once never spend the same credit; the quote gets a line "credit deducted",
  which its pro-forma and invoice copy.
- `release`: a quote withdrawn, or its campaign cancelled before payment, gives its credit back.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.campaigns.models import Campaign, CampaignCredit, CampaignCreditUse
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import money_filter
from marketplace.invoicing import services as invoicing
from marketplace.invoicing.models import Document, VatTreatment


def credited_cents(organization_id: int) -> int:
    """All the credit the works council ever received, in cents."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        CampaignCredit.amount_cents), 0)).where(CampaignCredit.organization_id == organization_id)))


def used_cents(organization_id: int) -> int:
    """The credit held by the council's quotes (and so by their pro-formas and invoices)."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        CampaignCreditUse.amount_cents), 0)).where(
        CampaignCreditUse.organization_id == organization_id,
        CampaignCreditUse.released_at.is_(None))))


def available_cents(organization_id: int) -> int:
    """The credit the council's next quote may deduct, in cents."""
    return credited_cents(organization_id) - used_cents(organization_id)


def used_by(campaign: Campaign) -> int:
    """The credit deducted from this campaign's current quote, in cents (0 if none)."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        CampaignCreditUse.amount_cents), 0)).where(
        CampaignCreditUse.campaign_id == campaign.id, CampaignCreditUse.released_at.is_(None))))


def _lock_credits(organization_id: int) -> None:
    """The council's credit rows, locked in id order: whoever deducts credit for this council
    waits here for the one before it, then reads what it left."""
    ids = db.session.scalars(sa.select(CampaignCredit.id).where(
        CampaignCredit.organization_id == organization_id).order_by(CampaignCredit.id)).all()
    if ids:
        lock_rows(CampaignCredit, ids)


def deduction(campaign: Campaign, lines: list[invoicing.Line]) -> int:
    """How much credit the quote of `lines` takes, under the credits' locks (held until the
    unit of work ends): what is available, at most the cards' face value; a quote whose only
    other line would be 0 leaves one cent to pay (a payment of 0 cannot be received)."""
    face_value = sum(line.total_excl_vat_cents for line in lines
                     if line.vat == VatTreatment.VOUCHER)
    others = sum(line.total_excl_vat_cents for line in lines
                 if line.vat != VatTreatment.VOUCHER)
    if face_value <= 0:
        return 0
    _lock_credits(campaign.organization_id)
    available = available_cents(campaign.organization_id)
    if available <= 0:
        return 0
    return max(0, min(available, face_value if others > 0 else face_value - 1))


def credit_line(amount_cents: int) -> invoicing.Line:
    """The quote's line for the credit (in French, as every document)."""
    with force_locale("fr"):
        return invoicing.credit_line(
            _("Credit of the works council deducted (value left unspent on the cards of its "
              "earlier campaigns): %(amount)s", amount=money_filter(amount_cents)),
            amount_cents=amount_cents)


def record(campaign: Campaign, quote: Document, amount_cents: int) -> CampaignCreditUse:
    use = CampaignCreditUse(organization_id=campaign.organization_id, campaign_id=campaign.id,
                            quote_id=quote.id, amount_cents=amount_cents)
    db.session.add(use)
    db.session.flush()
    return use


def release(campaign: Campaign) -> int:
    """The campaign's quote is withdrawn or the campaign cancelled before payment: the credit
    its quote held is available again. Returns the amount released."""
    uses = db.session.scalars(sa.select(CampaignCreditUse).where(
        CampaignCreditUse.campaign_id == campaign.id,
        CampaignCreditUse.released_at.is_(None))).all()
    now = utcnow()
    for use in uses:
        use.released_at = now
    db.session.flush()
    return sum(use.amount_cents for use in uses)
