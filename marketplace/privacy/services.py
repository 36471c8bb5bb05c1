"""A shopper's rights over their data (GDPR articles 15, 17 and 20): download it, erase it.

This package sits with the pages at the top of the domains (pyproject's layers): it reads and
writes the account, its orders, its gift cards and its consents.

Erasing an account:
- what the law requires us to keep stays, anonymised: the orders and their parts and lines, the
  payments and refunds, and the gift cards bought are accounting records (10 years, Code de
  commerce art. L123-22); their name, email and phone are blanked and the link to the account
  cut;
- the rest goes: the account, its logins (every device is logged out), its cart, its consents
  to hear from sellers (and their messages' recipient rows);
- every other row naming the account (an audit entry, a refund it asked for) loses the link.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts import services as accounts
from marketplace.accounts import sessions
from marketplace.accounts.models import User, UserSession
from marketplace.consent.models import WITHDRAWN_BY_ERASURE, MarketingConsent
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.giftcards.models import GiftCard
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import Order

FORMAT_VERSION = 1


class PrivacyError(DomainError):
    pass


def _moment(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _orders_of(user: User) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(sa.or_(Order.user_id == user.id, Order.email == user.email),
                               Order.reference.is_not(None))
        .order_by(Order.id)))


def _cards_bought_by(user: User) -> list[GiftCard]:
    return list(db.session.scalars(
        sa.select(GiftCard).where(sa.or_(GiftCard.buyer_user_id == user.id,
                                         GiftCard.buyer_email == user.email))
        .order_by(GiftCard.id)))


def _consents_of(user: User) -> list[MarketingConsent]:
    return list(db.session.scalars(
        sa.select(MarketingConsent)
        .where(sa.or_(MarketingConsent.user_id == user.id, MarketingConsent.email == user.email))
        .order_by(MarketingConsent.id)))


def export_data(user: User) -> dict:
    """Everything we hold on the account, as JSON-ready data."""
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _moment(utcnow()),
        "account": {
            "email": user.email, "name": user.name, "language": user.locale,
            "created_at": _moment(user.created_at),
            "email_verified_at": _moment(user.email_verified_at),
            "last_login_at": _moment(user.last_login_at),
        },
        "logins": [{"created_at": _moment(login.created_at),
                    "last_seen_at": _moment(login.last_seen_at),
                    "browser": login.browser, "system": login.system,
                    "stays_logged_in": login.remembered}
                   for login in sessions.sessions_of(user)],
        "orders": [{
            "reference": order.reference, "placed_at": _moment(order.created_at),
            "status": order.status.value, "name": order.name, "email": order.email,
            "phone": order.phone, "language": order.locale, "currency": order.currency,
            "total_cents": order.total_cents, "paid_at": _moment(order.paid_at),
            "amount_paid_cents": order.amount_paid_cents,
            "amount_refunded_cents": order.amount_refunded_cents,
            "gift_cards_cents": order.gift_cards_cents,
            "terms_accepted_at": _moment(order.terms_accepted_at),
            "sellers": [{
                "seller": part.organization.name, "status": part.status.value,
                "subtotal_cents": part.subtotal_cents,
                "lines": [{"title": line.title, "quantity": line.quantity,
                           "unit_price_cents": line.unit_price_cents,
                           "refunded_quantity": line.refunded_quantity}
                          for line in part.lines],
            } for part in order.parts],
        } for order in _orders_of(user)],
        "gift_cards_bought": [{
            "code_ends_with": card.code[-4:], "currency": card.currency,
            "initial_cents": card.initial_cents, "balance_cents": card.balance_cents,
            "status": card.status.value, "expires_at": _moment(card.expires_at),
            "bought_at": _moment(card.created_at), "recipient_name": card.recipient_name,
            "recipient_email": card.recipient_email, "message": card.message,
        } for card in _cards_bought_by(user)],
        "consents": [{
            "seller": consent.organization.name, "email": consent.email,
            "given_at": _moment(consent.given_at), "wording": consent.wording,
            "language": consent.locale, "how": consent.method,
            "order_reference": consent.order_reference,
            "withdrawn_at": _moment(consent.withdrawn_at), "withdrawn_how": consent.withdrawn_how,
        } for consent in _consents_of(user)],
    }


# --- erasure ---------------------------------------------------------------------------------------

def check_erasable(user: User) -> None:
    if user.is_admin:
        raise PrivacyError(_l("A platform administrator's account is closed by another "
                              "administrator."), status_code=409)
    if user.memberships:
        raise PrivacyError(_l("You are a member of an organization: ask its manager to remove "
                              "you first (its records name who did what)."), status_code=409)


def erase(user: User, *, password: str) -> dict[str, int]:
    """Erase the account after checking its password. Returns what was done (counts)."""
    if not accounts.check_password(user, password or ""):
        raise PrivacyError(_l("This password is not right."), status_code=400)
    check_erasable(user)
    email = user.email
    done = {"orders": 0, "gift_cards": 0, "consents": 0, "logins": 0}
    # Kept, anonymised: the accounting records.
    done["orders"] = db.session.execute(
        sa.update(Order).where(sa.or_(Order.user_id == user.id, Order.email == email))
        .values(user_id=None, name="", email="", phone="")
        .execution_options(synchronize_session=False)).rowcount
    done["gift_cards"] = db.session.execute(
        sa.update(GiftCard).where(sa.or_(GiftCard.buyer_user_id == user.id,
                                         GiftCard.buyer_email == email))
        .values(buyer_user_id=None, buyer_name="", buyer_email="")
        .execution_options(synchronize_session=False)).rowcount
    db.session.execute(
        sa.update(GiftCard).where(sa.or_(GiftCard.holder_user_id == user.id,
                                         GiftCard.holder_email == email))
        .values(holder_user_id=None, holder_email=None, holder_name=None)
        .execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(GiftCard).where(GiftCard.recipient_email == email)
        .values(recipient_email=None, recipient_name=None)
        .execution_options(synchronize_session=False))
    # Deleted: the consents (withdrawn first, should a batch be sending), the logins, the cart,
    # and the account; the other rows naming it lose the link.
    consents = _consents_of(user)
    for consent in consents:
        consent.withdrawn_at = consent.withdrawn_at or utcnow()
        consent.withdrawn_how = consent.withdrawn_how or WITHDRAWN_BY_ERASURE
    db.session.flush()
    done["consents"] = len(consents)
    _delete_where(MarketingConsent.__table__, sa.or_(MarketingConsent.user_id == user.id,
                                                     MarketingConsent.email == email))
    done["logins"] = sessions.end_all_sessions(user)
    # Who it was is not written: the entry says only that an account was erased, and when.
    audit.record("account.erased", user, data={"orders": done["orders"]})
    _delete_where(User.__table__, User.id == user.id, skip={UserSession.__table__.name})
    db.session.expunge(user)
    return done


def _delete_where(table: sa.Table, condition, *, skip=frozenset(), depth: int = 0) -> None:
    """Delete the rows, and what refers to them as the schema says (ON DELETE CASCADE: deleted,
    else the reference set to NULL), written out so that it holds on SQLite too, whose foreign
    keys are not enforced."""
    if depth > 5:  # pragma: no cover - the schema is not that deep
        raise RuntimeError("references too deep to erase")
    if "id" not in table.c:  # a link table: nothing refers to its rows
        db.session.execute(sa.delete(table).where(condition))
        return
    ids = list(db.session.scalars(sa.select(table.c.id).where(condition)))
    if not ids:
        return
    for other in db.metadata.sorted_tables:
        if other.name in skip:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is not table or fk.parent.table is not other:
                continue
            refers = fk.parent.in_(ids)
            if (fk.ondelete or "").upper() == "CASCADE":
                _delete_where(other, refers, depth=depth + 1)
            else:
                db.session.execute(sa.update(other).where(refers).values({fk.parent.name: None}))
    db.session.execute(sa.delete(table).where(table.c.id.in_(ids)))
