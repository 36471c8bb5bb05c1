"""Gift cards: issuing, spending (counter and online), refunds, donation, expiry, admin moves.

Every change of a balance goes through `_move`: the card row is locked, the rule is checked
inside the lock, a transaction is written with the new balance, and the cached balance is set
to the same figure. CHECK (balance >= 0) is the last guard. A `nonce` makes a retried debit
return the first transaction instead of debiting twice (UNIQUE(card_id, nonce)).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.db import db, lock_rows, lock_waits, utcnow
from marketplace.errors import DomainError
from marketplace.giftcards import codes
from marketplace.giftcards.models import CardStatus, CardTransaction, GiftCard, TransactionKind
from marketplace.i18n import format_day, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import Order
from marketplace.organizations.models import Organization, OrganizationKind, OrganizationStatus

K = TransactionKind
CODE_ATTEMPTS = 5


class CardError(DomainError):
    status_code = 409


class CardNotFound(CardError):
    status_code = 404


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def check_amount(amount_cents: int) -> None:
    low, high = current_app.config["GIFTCARD_MIN_CENTS"], current_app.config["GIFTCARD_MAX_CENTS"]
    if not isinstance(amount_cents, int) or not low <= amount_cents <= high:
        raise CardError(_l("A gift card is worth between %(low)s and %(high)s euros.",
                           low=low // 100, high=high // 100), status_code=400)


# --- issuing -----------------------------------------------------------------------------------

def issue(amount_cents: int, *, buyer_email: str = "", buyer_name: str = "", buyer_user_id=None,
          recipient_name: str | None = None, recipient_email: str | None = None,
          message: str | None = None, deliver_on: date | None = None, order_id=None,
          locale: str = "fr", by=None, now: datetime | None = None) -> GiftCard:
    """A new card worth `amount_cents`, valid GIFTCARD_VALIDITY_MONTHS from now."""
    check_amount(amount_cents)
    now = now or utcnow()
    months = max(12, current_app.config["GIFTCARD_VALIDITY_MONTHS"])
    card = GiftCard(
        code=_free_code(), initial_cents=amount_cents, balance_cents=amount_cents,
        expires_at=add_months(now, months), buyer_email=buyer_email, buyer_name=buyer_name,
        buyer_user_id=buyer_user_id, holder_user_id=None if recipient_email else buyer_user_id,
        recipient_name=recipient_name or None, recipient_email=recipient_email or None,
        message=message or None, deliver_on=deliver_on, order_id=order_id, locale=locale,
    )
    db.session.add(card)
    db.session.flush()
    db.session.add(CardTransaction(card_id=card.id, kind=K.ISSUE, amount_cents=amount_cents,
                                   balance_after_cents=amount_cents, order_id=order_id,
                                   by_id=getattr(by, "id", None), created_at=now))
    audit.record("giftcard.issued", card, by=by,
                 data=audit_data(card.code, amount_cents=amount_cents, order_id=order_id))
    return card


def audit_data(code: str, *, order_id=None, **values) -> dict:
    """What an audit entry about a card keeps: amounts, the order's reference, and the last 4
    characters of the code (never the whole code: the log is read by many)."""
    data = {**values, "last4": code[-4:]}
    if order_id is not None:
        order = db.session.get(Order, order_id)
        if order is not None and order.reference:
            data["reference"] = order.reference
    return data


def _free_code() -> str:
    for _attempt in range(CODE_ATTEMPTS):
        code = codes.new_code()
        if db.session.scalar(sa.select(GiftCard.id).where(GiftCard.code == code)) is None:
            return code
    raise RuntimeError("no free gift card code after several draws")  # pragma: no cover


# --- finding -----------------------------------------------------------------------------------

def by_code(text: str | None) -> GiftCard | None:
    code = codes.normalize(text)
    return None if code is None else _with_code(code)


def _with_code(code: str) -> GiftCard | None:
    return db.session.scalar(sa.select(GiftCard).where(GiftCard.code == code))


def find(text: str | None) -> GiftCard:
    code = codes.normalize(text)
    if code is None:
        raise CardNotFound(_l("This is not a gift card code: it has 16 characters, like "
                              "K7QM-4XPD-R2ST-8WHN. Check each character."))
    card = _with_code(code)
    if card is None:
        raise CardNotFound(_l("No gift card has this code."))
    return card


def card_id_for(text: str | None) -> int:
    """Only the id (the counter's hot path: redeem() locks and reads the card)."""
    code = codes.normalize(text)
    card_id = code and db.session.scalar(sa.select(GiftCard.id).where(GiftCard.code == code))
    if not card_id:
        raise CardNotFound(_l("No gift card has this code."))
    return card_id


# --- balance moves -----------------------------------------------------------------------------

@dataclass
class Move:
    transaction: CardTransaction
    card: GiftCard | None  # locked and changed; None after a counter debit (not read back)
    replayed: bool = False


def check_spendable(card: GiftCard, now: datetime) -> None:
    if card.status == CardStatus.BLOCKED:
        raise CardError(_l("This card is blocked: it was reported lost or stolen."))
    if card.is_expired(now):
        raise CardError(_l("This card expired on %(date)s.", date=format_day(card.expires_at, "long")))


def move_balance(card_id: int, kind: TransactionKind, delta: int | None = None, *,
                 nonce: str | None = None, organization_id=None, order_id=None, by=None,
                 reason: str = "", now: datetime | None = None, check=None) -> Move:
    """Change the card's balance by `delta` under its row lock, or by what `check(card, now)`
    returns once the card is locked (it raises CardError to refuse)."""
    now = now or utcnow()
    (card,) = lock_rows(GiftCard, [card_id])
    if nonce is not None:
        first = _first_with_nonce(card_id, nonce)
        if first is not None:
            return Move(first, card, replayed=True)
    if check is not None:
        delta = check(card, now)
    if delta == 0:
        raise CardError(_l("Nothing to move: the amount is zero."), status_code=400)
    after = card.balance_cents + delta
    if after < 0:
        raise CardError(_l("Only %(balance)s left on this card.",
                           balance=money_filter(card.balance_cents)))
    card.balance_cents = after
    transaction = CardTransaction(
        card_id=card_id, kind=kind, amount_cents=delta, balance_after_cents=after, nonce=nonce,
        organization_id=organization_id, order_id=order_id, by_id=getattr(by, "id", None),
        reason=(reason or "")[:200], created_at=now,
    )
    db.session.add(transaction)
    db.session.flush()
    return Move(transaction, card)


def redeem(card_id: int, amount_cents: int, *, organization: Organization, by=None,
           nonce: str | None = None, order_id=None, now: datetime | None = None) -> Move:
    """Spend `amount_cents` of the card at a seller's counter, once per `nonce`. The seller is
    credited in the ledger, less its commission, and the audit log says who cashed how much
    where (giftcard.redeemed), in the same transaction.

    The hottest row of the system (every till of a busy day may debit one card): the lock is
    taken by a single UPDATE that checks and changes the balance, and held for two INSERTs."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise CardError(_l("Enter an amount above zero."), status_code=400)
    if not organization.is_seller:
        raise CardError(_l("Gift cards are spent at sellers only."), status_code=400)
    now = now or utcnow()
    if nonce is not None:
        first = _first_with_nonce(card_id, nonce)
        if first is not None:
            return Move(first, first.card, replayed=True)
    if db.session.get_bind().dialect.name == "postgresql":
        return _redeem_in_one_statement(card_id, amount_cents, organization=organization, by=by,
                                        nonce=nonce, order_id=order_id, now=now)
    with lock_waits():
        row = db.session.execute(
            sa.update(GiftCard)
            .where(GiftCard.id == card_id, GiftCard.status == CardStatus.ACTIVE,
                   GiftCard.expires_at > now, GiftCard.balance_cents >= amount_cents)
            .values(balance_cents=GiftCard.balance_cents - amount_cents, updated_at=now)
            .returning(GiftCard.balance_cents, GiftCard.code)
            .execution_options(synchronize_session=False)
        ).one_or_none()
    if row is None:
        _why_not_spendable(card_id, amount_cents, now)
    balance_after, code = row
    transaction = CardTransaction(
        card_id=card_id, kind=K.REDEEM, amount_cents=-amount_cents,
        balance_after_cents=balance_after, nonce=nonce, organization_id=organization.id,
        order_id=order_id, by_id=getattr(by, "id", None), created_at=now,
    )
    db.session.add(transaction)
    from marketplace.ledger import services as ledger

    ledger.credit_card_redemption(transaction, organization)
    audit.insert_values(audit.values(
        "giftcard.redeemed", subject_type="GiftCard", subject_id=card_id, by=by,
        organization_id=organization.id,
        data=audit_data(code, amount_cents=amount_cents, balance_after_cents=balance_after)))
    return Move(transaction, None)


# PostgreSQL: the balance check and change, the card's transaction, the seller's ledger entry
# and the audit line (as audit.values() makes it; data built from the card's row) in ONE
# statement. The card's row lock is taken by the UPDATE and held only until the commit
# that follows: the shortest possible wait for the other tills.
_REDEEM_SQL = sa.text("""
WITH card AS (
    UPDATE gift_card SET balance_cents = balance_cents - :amount, updated_at = :now
    WHERE id = :card_id AND status = 'active' AND expires_at > :now AND balance_cents >= :amount
    RETURNING id, balance_cents, code
), txn AS (
    INSERT INTO card_transaction (card_id, kind, amount_cents, balance_after_cents,
                                  organization_id, order_id, nonce, by_id, reason, created_at)
    SELECT id, 'redeem', -CAST(:amount AS integer), balance_cents, :org_id, :order_id, :nonce,
           :by_id, '', :now FROM card
    RETURNING id, balance_after_cents
), entry AS (
    INSERT INTO ledger_entry (organization_id, kind, amount_cents, gross_cents, commission_cents,
                              source, reference, created_at)
    SELECT :org_id, 'card', :net, :amount, :commission, 'card:' || txn.id, :reference, :now
    FROM txn
), audit_row AS (
    INSERT INTO audit_entry (created_at, action, actor_id, organization_id, subject_type,
                             subject_id, data, ip_address)
    SELECT :now, :audit_action, :by_id, :org_id, :audit_subject_type, card.id,
           json_build_object('amount_cents', CAST(:amount AS integer),
                             'balance_after_cents', card.balance_cents,
                             'last4', right(card.code, 4)),
           :audit_ip_address
    FROM card
)
SELECT id, balance_after_cents FROM txn
""")


def _redeem_in_one_statement(card_id: int, amount_cents: int, *, organization, by, nonce,
                             order_id, now) -> Move:
    from marketplace.ledger.services import card_commission

    commission = card_commission(amount_cents, organization)
    entry = audit.values("giftcard.redeemed", subject_type="GiftCard", subject_id=card_id, by=by,
                         organization_id=organization.id, data={})
    try:
        with lock_waits():
            row = db.session.execute(_REDEEM_SQL, {
                "amount": amount_cents, "now": now, "card_id": card_id, "org_id": organization.id,
                "order_id": order_id, "nonce": nonce, "by_id": getattr(by, "id", None),
                "net": amount_cents - commission, "commission": commission,
                "reference": f"card {card_id}", "audit_action": entry["action"],
                "audit_subject_type": entry["subject_type"],
                "audit_ip_address": entry["ip_address"],
            }).one_or_none()
    except IntegrityError as exc:  # the same nonce, sent twice at the same instant
        raise CardError(_l("This payment is being recorded: scan the card again to see it.")) \
            from exc
    if row is None:
        _why_not_spendable(card_id, amount_cents, now)
    transaction = CardTransaction(  # what was written, for the answer (not added to the session)
        id=row.id, card_id=card_id, kind=K.REDEEM, amount_cents=-amount_cents,
        balance_after_cents=row.balance_after_cents, nonce=nonce,
        organization_id=organization.id, order_id=order_id, by_id=getattr(by, "id", None),
        reason="", created_at=now,
    )
    return Move(transaction, None)


def _first_with_nonce(card_id: int, nonce: str) -> CardTransaction | None:
    return db.session.scalar(sa.select(CardTransaction).where(
        CardTransaction.card_id == card_id, CardTransaction.nonce == nonce))


def _why_not_spendable(card_id: int, amount_cents: int, now: datetime):
    card = db.session.get(GiftCard, card_id, populate_existing=True)
    if card is None:
        raise CardNotFound(_l("No gift card has this code."))
    check_spendable(card, now)
    raise CardError(_l("Only %(balance)s left on this card.", balance=money_filter(card.balance_cents)))


def refund(card_id: int, amount_cents: int, *, order_id=None, by=None, reason: str = "",
           nonce: str | None = None) -> Move:
    """Money of a cancelled or refunded order goes back to the card it was paid with (even a
    card that expired since: the shopper did not spend it)."""
    move = move_balance(card_id, K.REFUND, amount_cents, order_id=order_id, by=by, reason=reason,
                        nonce=nonce)
    if not move.replayed:
        audit.record("giftcard.refunded", move.card, by=by, data=audit_data(
            move.card.code, order_id=order_id, amount_cents=amount_cents,
            balance_after_cents=move.transaction.balance_after_cents))
    return move


def donation_amount(card: GiftCard, amount_cents: int | None, now: datetime) -> int:
    """What a gift of `amount_cents` (None: all that is left) from the card would give;
    CardError saying why it cannot be given."""
    check_spendable(card, now)
    if card.balance_cents <= 0:
        raise CardError(_l("There is nothing left on this card to give."))
    if amount_cents is None:
        return card.balance_cents
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise CardError(_l("Enter an amount above zero."), status_code=400)
    if amount_cents > card.balance_cents:
        raise CardError(_l("Only %(balance)s left on this card.",
                           balance=money_filter(card.balance_cents)))
    return amount_cents


def donate(card_id: int, association: Organization, *, amount_cents: int | None = None, by=None,
           now: datetime | None = None, nonce: str | None = None) -> Move:
    """Give all (`amount_cents` None) or part of what is left on the card to a participating
    association, before expiry."""
    if not is_participating_association(association):
        raise CardError(_l("Choose one of the participating associations."), status_code=400)

    def check(card, now):
        return -donation_amount(card, amount_cents, now)

    move = move_balance(card_id, K.DONATE, organization_id=association.id, by=by, now=now,
                 nonce=nonce, check=check)
    if not move.replayed:
        from marketplace.ledger import services as ledger

        ledger.credit_donation(move.transaction, association)
        audit.record("giftcard.donated", move.card, by=by, organization=association,
                     data={"amount_cents": -move.transaction.amount_cents})
    return move


def adjust(card_id: int, delta_cents: int, *, reason: str, by) -> Move:
    reason = (reason or "").strip()
    if not reason:
        raise CardError(_l("Give the reason for the adjustment."), status_code=400)
    move = move_balance(card_id, K.ADJUST, delta_cents, by=by, reason=reason)
    audit.record("giftcard.adjusted", move.card, by=by, data=audit_data(
        move.card.code, delta_cents=delta_cents, reason=reason,
        balance_after_cents=move.transaction.balance_after_cents))
    return move


def block(card_id: int, *, reason: str, by) -> GiftCard:
    reason = (reason or "").strip()
    if not reason:
        raise CardError(_l("Give the reason for blocking the card."), status_code=400)
    (card,) = lock_rows(GiftCard, [card_id])
    card.status = CardStatus.BLOCKED
    card.blocked_reason = reason[:200]
    audit.record("giftcard.blocked", card, by=by, data=audit_data(card.code, reason=reason))
    return card


def unblock(card_id: int, *, by) -> GiftCard:
    (card,) = lock_rows(GiftCard, [card_id])
    card.status = CardStatus.ACTIVE
    card.blocked_reason = None
    audit.record("giftcard.unblocked", card, by=by, data=audit_data(card.code))
    return card


def claim(card: GiftCard, user) -> bool:
    """A signed-in user keeps the card in their account (once; a claimed card stays theirs)."""
    (card,) = lock_rows(GiftCard, [card.id])
    if card.holder_user_id not in (None, user.id):
        return False
    card.holder_user_id = user.id
    return True


# --- expiry ------------------------------------------------------------------------------------

def expiry_association() -> Organization | None:
    slug = current_app.config.get("GIFTCARD_EXPIRY_ASSOCIATION")
    if not slug:
        return None
    return db.session.scalar(sa.select(Organization).where(Organization.slug == slug))


def expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cards past their expiry with something left: what is left follows the platform setting
    (kept, or given to the default association). One unit of work (the job's): a failure
    rolls all back, and the next run takes them again."""
    now = now or utcnow()
    ids = db.session.scalars(
        sa.select(GiftCard.id).where(GiftCard.expires_at <= now, GiftCard.balance_cents > 0)
        .order_by(GiftCard.id).limit(limit)
    ).all()
    association = expiry_association() if current_app.config["GIFTCARD_EXPIRY_POLICY"] == "donate" else None
    from marketplace.ledger import services as ledger

    def take_all(card, now):
        return -card.balance_cents

    for card_id in ids:
        if association is not None:
            move = move_balance(card_id, K.DONATE, organization_id=association.id, now=now,
                                reason="expiry", check=take_all)
            ledger.credit_donation(move.transaction, association)
        else:
            move = move_balance(card_id, K.EXPIRE, now=now, reason="expiry", check=take_all)
        audit.record("giftcard.expired", move.card, organization=association, data=audit_data(
            move.card.code, amount_cents=-move.transaction.amount_cents))
    return len(ids)


# --- lists -------------------------------------------------------------------------------------

def participating_associations() -> list[Organization]:
    return list(db.session.scalars(
        sa.select(Organization).where(Organization.kind == OrganizationKind.ASSOCIATION,
                                      Organization.status == OrganizationStatus.APPROVED)
        .order_by(Organization.name)
    ))


def is_participating_association(organization: Organization | None) -> bool:
    return (organization is not None and organization.kind == OrganizationKind.ASSOCIATION
            and organization.status == OrganizationStatus.APPROVED)


def cards_of(user) -> list[GiftCard]:
    return list(db.session.scalars(
        sa.select(GiftCard).where(sa.or_(GiftCard.holder_user_id == user.id,
                                         GiftCard.buyer_user_id == user.id))
        .order_by(GiftCard.id.desc())
    ))


def history(card_id: int) -> list[CardTransaction]:
    """The card's transactions, newest first, with the shops' names (one query each)."""
    return list(db.session.scalars(
        sa.select(CardTransaction).where(CardTransaction.card_id == card_id)
        .options(sa.orm.selectinload(CardTransaction.organization))
        .order_by(CardTransaction.id.desc())))


def ledger_sum(card_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CardTransaction.amount_cents), 0))
        .where(CardTransaction.card_id == card_id)
    )
