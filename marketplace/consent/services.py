"""Consents to hear from a seller: given at checkout, listed and exported by the seller, seen and
withdrawn by the shopper (from their account, or the unsubscribe link of every message).

This domain sits below the orders (pyproject's layers): the checkout calls
`record_at_checkout`; it knows nothing of orders itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.consent.models import (
    GIVEN_AT_CHECKOUT,
    WITHDRAWN_BY_LINK,
    WITHDRAWN_FROM_ACCOUNT,
    WITHDRAWN_ONE_CLICK,
    MarketingConsent,
)
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import current_locale_code
from marketplace.i18n import lazy_gettext as _l

INPUT_PREFIX = "consent-"  # the checkout's checkbox of a seller: consent-<organization id>

HOW_LABELS = {
    GIVEN_AT_CHECKOUT: _l("at checkout"),
    WITHDRAWN_FROM_ACCOUNT: _l("from your account"),
    WITHDRAWN_BY_LINK: _l("with the link in an email"),
    WITHDRAWN_ONE_CLICK: _l("with your mail program's unsubscribe button"),
}


class ConsentError(DomainError):
    pass


def wording(seller_name: str) -> str:
    """The sentence the shopper ticks, in the page's language (stored exactly as shown)."""
    return str(_l("I agree to receive news and offers by email from the seller “%(seller)s”. "
                  "My address is used only by this seller for this purpose and never passed on; "
                  "I can withdraw at any time from my account or with the link in each email.",
                  seller=seller_name))


@dataclass(frozen=True)
class CheckoutChoice:
    """One seller's checkbox on the checkout page (unticked unless the shopper ticked it)."""

    organization_id: int
    input_name: str
    text: str
    checked: bool


def checkout_choices(organizations, formdata=None) -> list[CheckoutChoice]:
    """The checkboxes of the checkout page: one per seller of the cart, never ticked for the
    shopper (a form shown again keeps what they ticked)."""
    choices = []
    for organization in organizations:
        name = f"{INPUT_PREFIX}{organization.id}"
        checked = bool(formdata is not None and formdata.get(name) == "y")
        choices.append(CheckoutChoice(organization.id, name, wording(organization.name), checked))
    return choices


def record_at_checkout(formdata, *, organizations, email: str, name: str = "",
                       user_id: int | None = None, reference: str | None = None
                       ) -> list[MarketingConsent]:
    """The consents ticked on the checkout form, one per seller of the order, each with the
    sentence shown, the language and the date. A seller the address already agreed to hear
    from keeps its consent as it was given. Returns the consents recorded now."""
    email = (email or "").strip().lower()
    recorded = []
    for organization in organizations:
        if formdata.get(f"{INPUT_PREFIX}{organization.id}") != "y" or not email:
            continue
        if active_consent(organization.id, email) is not None:
            continue
        consent = MarketingConsent(
            organization_id=organization.id, user_id=user_id, email=email, name=name or "",
            wording=wording(organization.name), locale=current_locale_code(),
            method=GIVEN_AT_CHECKOUT, order_reference=reference, given_at=utcnow())
        db.session.add(consent)
        recorded.append(consent)
    if recorded:
        db.session.flush()
    return recorded


def active_consent(organization_id: int, email: str) -> MarketingConsent | None:
    return db.session.scalar(sa.select(MarketingConsent).where(
        MarketingConsent.organization_id == organization_id,
        MarketingConsent.email == email.strip().lower(),
        MarketingConsent.withdrawn_at.is_(None)))


# --- the seller's list ---------------------------------------------------------------------------

def customers(organization_id: int) -> sa.Select:
    """The seller's opted-in customers, the latest first (a statement, for db.paginate)."""
    return (sa.select(MarketingConsent)
            .where(MarketingConsent.organization_id == organization_id,
                   MarketingConsent.withdrawn_at.is_(None))
            .order_by(MarketingConsent.given_at.desc(), MarketingConsent.id.desc()))


def customers_count(organization_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(MarketingConsent.id)).where(
        MarketingConsent.organization_id == organization_id,
        MarketingConsent.withdrawn_at.is_(None))) or 0


def all_customers(organization_id: int) -> list[MarketingConsent]:
    return list(db.session.scalars(customers(organization_id)))


# --- the shopper's consents ----------------------------------------------------------------------

def consents_of(user) -> list[MarketingConsent]:
    """Every consent the account gave (by account or by its address), in force first."""
    return list(db.session.scalars(
        sa.select(MarketingConsent)
        .where(sa.or_(MarketingConsent.user_id == user.id, MarketingConsent.email == user.email))
        .order_by(MarketingConsent.withdrawn_at.is_not(None), MarketingConsent.given_at.desc(),
                  MarketingConsent.id.desc())))


def consent_of_user(user, consent_id: int) -> MarketingConsent | None:
    return db.session.scalar(sa.select(MarketingConsent).where(
        MarketingConsent.id == consent_id,
        sa.or_(MarketingConsent.user_id == user.id, MarketingConsent.email == user.email)))


def withdraw(consent: MarketingConsent, *, how: str, now: datetime | None = None) -> bool:
    """No more messages from this seller to this address; False if already withdrawn."""
    if consent.withdrawn_at is not None:
        return False
    consent.withdrawn_at = now or utcnow()
    consent.withdrawn_how = how
    db.session.flush()
    return True


# --- the unsubscribe link ------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="seller-messages-off")


def unsubscribe_token(consent: MarketingConsent) -> str:
    return _serializer().dumps(consent.id)


def consent_for_token(token: str) -> MarketingConsent | None:
    if not token or len(token) > 200:
        return None
    try:
        consent_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(MarketingConsent, consent_id) if isinstance(consent_id, int) else None
