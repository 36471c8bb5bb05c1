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
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.audit.models import AuditEntry
from marketplace.db import db, lock_rows, lock_waits, utcnow
from marketplace.errors import DomainError
from marketplace.giftcards import codes, counter_credit, restrictions, rules
from marketplace.giftcards.models import CardStatus, CardTransaction, GiftCard, TransactionKind
from marketplace.giftcards.signals import card_donated, card_expired
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter
from marketplace.orders.models import Order
from marketplace.organizations.models import Organization, OrganizationKind, OrganizationStatus

K = TransactionKind
CODE_ATTEMPTS = 5


class CardError(DomainError):
    status_code = 409


class CardNotFound(CardError):
    status_code = 404


class CardRestricted(CardError):
    """The card's restriction profile does not allow this payment (giftcards.restrictions):
    409 with the reason, or 400 when the counter did not say what is being bought."""

    def __init__(self, restriction: restrictions.Restriction, *, stated: bool = True):
        self.restriction = restriction
        if stated:
            super().__init__(restriction.reason)
        else:
            super().__init__(_l("%(reason)s Choose what is being bought.",
                                reason=restriction.reason), status_code=400)


def check_restriction(card: GiftCard, organization_id: int, category_ids) -> None:
    """CardRestricted unless the card may pay at this seller for goods of `category_ids`
    (a category and its parent; None: not said)."""
    restriction = restrictions.of_card(card)
    if restriction is None or restriction.allows(organization_id, category_ids):
        return
    stated = category_ids is not None or not restriction.allows_seller(organization_id)
    raise CardRestricted(restriction, stated=stated)


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
    """CardError unless the card can be spent now (giftcards/rules.py)."""
    refusal = rules.not_spendable_because(card, now)
    if refusal is not None:
        raise CardError(refusal)


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


def redeem_code(text: str | None, amount_cents: int, **options) -> Move:
    """redeem() of the card a scanned or typed code names (the counter's JSON debit): the
    debit's UPDATE finds the card by its code itself, one round trip less than card_id_for()
    then redeem(). Refusals are the same, in the same order (an unknown code first)."""
    code = codes.normalize(text)
    if not code:
        raise CardNotFound(_l("No gift card has this code."))
    return redeem(None, amount_cents, code=code, **options)


def redeem(card_id: int | None, amount_cents: int, *, organization: Organization, by=None,
           nonce: str | None = None, order_id=None, now: datetime | None = None,
           chained: bool | None = None, category: int | str | None = None,
           code: str | None = None) -> Move:
    """Spend `amount_cents` of the card at a seller's counter, once per `nonce`. The seller is
    credited in the ledger, less its commission, and the audit log says who cashed how much
    where (giftcard.redeemed), in the same transaction.

    `category` (an id or a slug): what is being bought, which a restricted card needs (its
    profile's categories; a subcategory counts as its parent). The restriction is checked in
    the same UPDATE (`restrictions.allows_sql`); a card without a profile ignores it.

    The hottest row of the system (every till of a busy day may debit one card): the lock is
    taken by the UPDATE that checks and changes the balance (`_Debit`). On PostgreSQL the four
    writes are chained in one statement, so the lock is held for that statement and the
    commit only (bench/RESULTS.md, issue 6: 320 debits/s against 219/s); elsewhere they run one
    after the other. `chained` forces one way (tests). A nonce already used on the card makes
    the UPDATE match no row (the replay is then found and answered with the first debit): no
    look-up of the nonce before the debit. `code` (normalized) instead of `card_id`: the
    UPDATE finds the card by its code (redeem_code)."""
    bad_amount = not isinstance(amount_cents, int) or amount_cents <= 0
    if card_id is None and (bad_amount or not organization.is_seller):
        card_id = card_id_for(code)  # an unknown code is said first, as by card_id_for()
    if bad_amount:
        raise CardError(_l("Enter an amount above zero."), status_code=400)
    if not organization.is_seller:
        raise CardError(_l("Gift cards are spent at sellers only."), status_code=400)
    now = now or utcnow()
    if chained is None:
        chained = db.session.get_bind().dialect.name == "postgresql"
    category_ids = None if category is None else restrictions.category_path(category)
    debit = _Debit(card_id, amount_cents, organization=organization, by=by, nonce=nonce,
                   order_id=order_id, now=now, category_ids=category_ids, code=code)
    try:
        with lock_waits():
            written = debit.run_chained() if chained else debit.run_in_sequence()
    except IntegrityError as exc:  # the same nonce, sent twice at the same instant
        raise CardError(_l("This payment is being recorded: scan the card again to see it.")) \
            from exc
    if written is None:
        if card_id is None:
            card_id = card_id_for(code)  # CardNotFound for a code no card has
        if nonce is not None:
            first = _first_with_nonce(card_id, nonce)
            if first is not None:
                return Move(first, first.card, replayed=True)
        _why_not_spendable(card_id, amount_cents, now, organization.id, category_ids)
    transaction = CardTransaction(  # what was written, for the answer (not added to the session)
        id=written.id, card_id=written.card_id, kind=K.REDEEM, amount_cents=-amount_cents,
        balance_after_cents=written.balance_after_cents, nonce=nonce,
        organization_id=organization.id, order_id=order_id, by_id=getattr(by, "id", None),
        reason="", created_at=now,
    )
    return Move(transaction, None)


_CARD = GiftCard.__table__
_TRANSACTION = CardTransaction.__table__
_AUDIT = AuditEntry.__table__


def _param(name: str, column_or_type) -> sa.BindParameter:
    """A named parameter typed as its column (an enum member is written as the enum's value).
    The names start with debit_: no column is called so (Core would add such a key to an
    UPDATE's SET clause)."""
    return sa.bindparam(f"debit_{name}", type_=getattr(column_or_type, "type", column_or_type))


class _Debit:
    """A counter debit as four SQLAlchemy Core statements: the card's UPDATE (the spendable
    rule, the balance check and change, the restriction and the nonce not used yet, in one),
    then INSERTs of the card's transaction, the seller's ledger entry and the audit line, each
    made from the row(s) the previous statements returned. The same statements either run as
    one (data-modifying CTEs: PostgreSQL) or one after the other, each reading the row the last
    one returned.

    Each statement is built once (per shape: with or without a category said) with named
    parameters, and SQLAlchemy caches its compiled form: a debit only fills in `parameters`
    (building the chained statement for each debit cost about a third of the request's CPU:
    bench/RESULTS.md, "Write paths")."""

    def __init__(self, card_id: int | None, amount_cents: int, *, organization, by, nonce,
                 order_id, now, category_ids=None, code: str | None = None):
        ledger = counter_credit.ledger()  # registered by the ledger (ledger.services)
        ids = sorted({i for i in (category_ids or ()) if i is not None})
        self.said, self.by_code = bool(ids), card_id is None
        entry = audit.values("giftcard.redeemed", subject_type="GiftCard", subject_id=card_id,
                             by=by, organization_id=organization.id, data={})
        commission = ledger.card_commission(amount_cents, organization)
        self.parameters = {
            "debit_card": card_id, "debit_code": code, "debit_amount": amount_cents,
            "debit_delta": -amount_cents, "debit_now": now,
            "debit_seller": organization.id, "debit_by": getattr(by, "id", None),
            "debit_nonce": nonce, "debit_order": order_id,
            "debit_net": amount_cents - commission, "debit_commission": commission,
            "debit_categories": ids,
            **{f"debit_audit_{key}": entry[key] for key in (
                "action", "actor_id", "organization_id", "subject_type", "ip_address")},
        }
        if not self.said:
            del self.parameters["debit_categories"]
        del self.parameters["debit_code" if card_id is not None else "debit_card"]

    @staticmethod
    @cache
    def debit_card(said: bool, by_code: bool = False):
        """RETURNING id, balance_cents, code; no row when the card cannot pay (not spendable,
        not enough on it, its restriction does not allow this seller or these goods, or the
        nonce was used on it already)."""
        c, t = _CARD.c, _TRANSACTION.c
        nonce = _param("nonce", t.nonce)
        return (
            sa.update(_CARD)
            .where(c.code == _param("code", c.code) if by_code else c.id == _param("card", c.id),
                   rules.spendable(_param("now", c.expires_at), _CARD),
                   c.balance_cents >= _param("amount", c.balance_cents),
                   restrictions.allows_sql_bound(
                       _CARD, organization_id=_param("seller", sa.Integer()),
                       category_ids=sa.bindparam("debit_categories", expanding=True)
                       if said else None),
                   sa.or_(nonce.is_(None), ~sa.exists().where(t.card_id == c.id, t.nonce == nonce)))
            .values(balance_cents=c.balance_cents - _param("amount", c.balance_cents),
                    updated_at=_param("now", c.updated_at))
            .returning(c.id, c.balance_cents, c.code)
        )

    @staticmethod
    def write_transaction(card):
        """RETURNING id, balance_after_cents, card_id."""
        t = _TRANSACTION.c
        return sa.insert(_TRANSACTION).from_select(
            [t.card_id, t.kind, t.amount_cents, t.balance_after_cents, t.organization_id,
             t.order_id, t.nonce, t.by_id, t.reason, t.created_at],
            sa.select(card.c.id, _value(K.REDEEM, t.kind), _param("delta", t.amount_cents),
                      card.c.balance_cents, _param("seller", t.organization_id),
                      _param("order", t.order_id), _param("nonce", t.nonce),
                      _param("by", t.by_id), _value("", t.reason), _param("now", t.created_at)),
        ).returning(t.id, t.balance_after_cents, t.card_id)

    @staticmethod
    def write_ledger_entry(transaction):
        ledger = counter_credit.ledger()  # registered by the ledger (ledger.services)

        table = ledger.LedgerEntry.__table__
        e = table.c
        return sa.insert(table).from_select(
            [e.organization_id, e.kind, e.amount_cents, e.gross_cents, e.commission_cents,
             e.source, e.reference, e.created_at],
            sa.select(_param("seller", e.organization_id), _value(ledger.EntryKind.CARD, e.kind),
                      _param("net", e.amount_cents), _param("amount", e.gross_cents),
                      _param("commission", e.commission_cents),
                      sa.literal("card:") + sa.cast(transaction.c.id, sa.String),
                      sa.literal("card ") + sa.cast(transaction.c.card_id, sa.String),
                      _param("now", e.created_at)),
        )

    @staticmethod
    def write_audit(card, dialect: str):
        """The line audit.values() makes, its data built from the card's row."""
        a = _AUDIT.c
        build = sa.func.json_build_object if dialect == "postgresql" else sa.func.json_object
        data = build("amount_cents", _param("amount", sa.Integer()),
                     "balance_after_cents", card.c.balance_cents,
                     "last4", sa.func.substr(card.c.code, sa.func.length(card.c.code) - 3))
        return sa.insert(_AUDIT).from_select(
            [a.created_at, a.action, a.actor_id, a.organization_id, a.subject_type, a.subject_id,
             a.data, a.ip_address],
            sa.select(_param("now", a.created_at), _param("audit_action", a.action),
                      _param("audit_actor_id", a.actor_id),
                      _param("audit_organization_id", a.organization_id),
                      _param("audit_subject_type", a.subject_type), card.c.id, data,
                      _param("audit_ip_address", a.ip_address)),
        )

    @classmethod
    @cache
    def chained(cls, said: bool, by_code: bool) -> sa.Select:
        """All four in one statement: the transaction's id, balance after and card as its row."""
        card = cls.debit_card(said, by_code).cte("card")
        transaction = cls.write_transaction(card).cte("txn")
        entry = cls.write_ledger_entry(transaction).cte("entry")
        audit_row = cls.write_audit(card, "postgresql").cte("audit_row")
        return (sa.select(transaction.c.id, transaction.c.balance_after_cents,
                          transaction.c.card_id).add_cte(entry, audit_row))

    @classmethod
    @cache
    def in_sequence(cls, dialect: str):
        """The three INSERTs of run_in_sequence(), each reading the row before it from
        parameters (debit_row_*)."""
        card = sa.select(_param("row_id", _CARD.c.id).label("id"),
                         _param("row_balance", _CARD.c.balance_cents).label("balance_cents"),
                         _param("row_code", _CARD.c.code).label("code")).subquery("card")
        transaction = sa.select(_param("row_transaction", _TRANSACTION.c.id).label("id"),
                                _param("row_id", _TRANSACTION.c.card_id).label("card_id")
                                ).subquery("txn")
        return (cls.write_transaction(card), cls.write_ledger_entry(transaction),
                cls.write_audit(card, dialect))

    def run_chained(self):
        """All four in one statement; None when the card cannot pay (nothing written)."""
        return db.session.connection().execute(
            self.chained(self.said, self.by_code), self.parameters).one_or_none()

    def run_in_sequence(self):
        """The same statements one after the other; None when the card cannot pay."""
        connection = db.session.connection()
        card_row = connection.execute(self.debit_card(self.said, self.by_code),
                                      self.parameters).one_or_none()
        if card_row is None:
            return None
        write_transaction, write_ledger_entry, write_audit = self.in_sequence(
            connection.dialect.name)
        parameters = {**self.parameters, "debit_row_id": card_row.id,
                      "debit_row_balance": card_row.balance_cents, "debit_row_code": card_row.code}
        written = connection.execute(write_transaction, parameters).one()
        parameters["debit_row_transaction"] = written.id
        connection.execute(write_ledger_entry, parameters)
        connection.execute(write_audit, parameters)
        return written


def _value(value, column_or_type):
    """A bound value typed as its column (an enum member is written as the enum's value)."""
    return sa.literal(value, getattr(column_or_type, "type", column_or_type))


def _first_with_nonce(card_id: int, nonce: str) -> CardTransaction | None:
    return db.session.scalar(sa.select(CardTransaction).where(
        CardTransaction.card_id == card_id, CardTransaction.nonce == nonce))


def _why_not_spendable(card_id: int, amount_cents: int, now: datetime, organization_id: int,
                       category_ids):
    card = db.session.get(GiftCard, card_id, populate_existing=True)
    if card is None:
        raise CardNotFound(_l("No gift card has this code."))
    check_spendable(card, now)
    check_restriction(card, organization_id, category_ids)
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
        card_donated.send(move.transaction, association=association)  # the ledger credits it
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
    default = expiry_association() if current_app.config["GIFTCARD_EXPIRY_POLICY"] == "donate" else None
    def take_all(card, now):
        return -card.balance_cents

    chosen = _expiry_associations(ids)
    for card_id in ids:
        association = chosen.get(card_id, default)
        if association is not None:
            move = move_balance(card_id, K.DONATE, organization_id=association.id, now=now,
                                reason="expiry", check=take_all)
            card_donated.send(move.transaction, association=association)  # the ledger credits it
        else:
            move = move_balance(card_id, K.EXPIRE, now=now, reason="expiry", check=take_all)
        amount = -move.transaction.amount_cents
        audit.record("giftcard.expired", move.card, organization=association, data=audit_data(
            move.card.code, amount_cents=amount))
        card_expired.send(move.card, amount_cents=amount,
                          association_id=association.id if association is not None else None)
    return len(ids)


def _expiry_associations(card_ids) -> dict[int, Organization | None]:
    """{card id: where its value goes} for the cards whose issuer chose: the association named
    on the card, or None (kept) for a named card without one. Other cards are absent (they
    follow the platform's setting)."""
    rows = db.session.execute(
        sa.select(GiftCard.id, GiftCard.expiry_association_id, GiftCard.holder_email)
        .where(GiftCard.id.in_(card_ids),
               sa.or_(GiftCard.expiry_association_id.is_not(None),
                      GiftCard.holder_email.is_not(None)))).all()
    associations = {o.id: o for o in db.session.scalars(sa.select(Organization).where(
        Organization.id.in_({row.expiry_association_id for row in rows
                             if row.expiry_association_id})))}
    return {row.id: associations.get(row.expiry_association_id) for row in rows}


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


def mark_opened(card: GiftCard, *, now: datetime | None = None) -> None:
    """The card's page was opened for the first time (named cards: see campaigns.reminders)."""
    db.session.execute(sa.update(GiftCard).where(GiftCard.id == card.id,
                                                 GiftCard.opened_at.is_(None))
                       .values(opened_at=now or utcnow())
                       .execution_options(synchronize_session=False))


def share_balance(card_id: int, shared: bool, *, now: datetime | None = None) -> GiftCard:
    """The holder of a named card lets the works council that offered it see its balance and
    history (`shared`), or stops it. Anyone holding the code may choose: the code is the card."""
    (card,) = lock_rows(GiftCard, [card_id])
    if not card.is_named:
        raise CardError(_l("Only a card offered by a works council can be shared with it."),
                        status_code=400)
    if shared != (card.balance_shared_at is not None):
        card.balance_shared_at = (now or utcnow()) if shared else None
        audit.record("giftcard.balance_shared" if shared else "giftcard.balance_unshared", card,
                     data=audit_data(card.code))
    return card
