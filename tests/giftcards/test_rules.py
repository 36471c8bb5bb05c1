"""One definition of "this card can be spent" (SQL and Python agree), and the counter debit's
two ways of running the same statements (chained in one on PostgreSQL, one after the other
elsewhere) write the same rows."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db, utcnow
from marketplace.giftcards import rules
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import CardStatus, CardTransaction, GiftCard, TransactionKind
from marketplace.ledger.models import EntryKind, LedgerEntry
from tests.giftcards.helpers import make_card, make_seller_with_counter


def test_the_sql_condition_and_its_python_twin_agree_on_every_kind_of_card(app):
    now = utcnow().replace(microsecond=0)
    expiries = [now - timedelta(days=1), now, now + timedelta(seconds=1), now + timedelta(days=9)]
    made = {}
    for status in CardStatus:
        for expires_at in expiries:
            card = make_card(5000)
            card.status, card.expires_at = status, expires_at
            made[card.id] = (status, expires_at)
    db.session.commit()
    db.session.expire_all()

    in_sql = set(db.session.scalars(sa.select(GiftCard.id).where(
        GiftCard.id.in_(made), rules.spendable(now))))
    in_python = {card.id for card in db.session.scalars(sa.select(GiftCard).where(GiftCard.id.in_(made)))
                 if rules.not_spendable_because(card, now) is None}
    assert in_sql == in_python
    assert in_sql == {card_id for card_id, (status, expires_at) in made.items()
                      if status == CardStatus.ACTIVE and expires_at > now}
    blocked = next(i for i, (s, e) in made.items() if s == CardStatus.BLOCKED and e > now)
    expired = next(i for i, (s, e) in made.items() if s == CardStatus.ACTIVE and e == now)
    assert "blocked" in str(rules.not_spendable_because(db.session.get(GiftCard, blocked), now))
    assert "expired" in str(rules.not_spendable_because(db.session.get(GiftCard, expired), now))


def _debit_both_ways():
    return [False, pytest.param(True, marks=pytest.mark.postgres)]


def _written(card_id: int, organization_id: int) -> dict:
    """Every row a debit writes, without the ids a sequence hands out (the ledger entry's
    source is checked against its transaction's id, then left out)."""
    db.session.expire_all()
    card = db.session.get(GiftCard, card_id)
    transactions = db.session.scalars(sa.select(CardTransaction).where(
        CardTransaction.card_id == card_id, CardTransaction.kind == TransactionKind.REDEEM)
        .order_by(CardTransaction.id)).all()
    entries = db.session.scalars(sa.select(LedgerEntry).where(
        LedgerEntry.organization_id == organization_id).order_by(LedgerEntry.id)).all()
    audits = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "giftcard.redeemed", AuditEntry.subject_id == card_id)
        .order_by(AuditEntry.id)).all()
    assert [e.source for e in entries] == [f"card:{t.id}" for t in transactions]
    return {
        "card": (card.balance_cents, card.updated_at, card.status),
        "transactions": [(t.kind, t.amount_cents, t.balance_after_cents, t.organization_id,
                          t.order_id, t.nonce, t.by_id, t.reason, t.created_at)
                         for t in transactions],
        "ledger": [(e.kind, e.amount_cents, e.gross_cents, e.commission_cents, e.reference,
                    e.payout_id, e.created_at) for e in entries],
        "audit": [(a.created_at, a.action, a.actor_id, a.organization_id, a.subject_type,
                   a.subject_id, a.data, a.ip_address) for a in audits],
    }


def _debits(app, card, organization, by, now, chained: bool):
    """Two debits (one with a nonce, one retried with it, one without) and one refused."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        first = cards.redeem(card.id, 1250, organization=organization, by=by, nonce="till-1",
                             now=now, chained=chained)
        again = cards.redeem(card.id, 1250, organization=organization, by=by, nonce="till-1",
                             now=now, chained=chained)
        second = cards.redeem(card.id, 99, organization=organization, by=None, now=now,
                              chained=chained)
        with pytest.raises(cards.CardError, match="Only €36.51 left"):
            cards.redeem(card.id, 3652, organization=organization, by=by, now=now, chained=chained)
    assert again.replayed and again.transaction.id == first.transaction.id
    answers = [(m.transaction.amount_cents, m.transaction.balance_after_cents) for m in (first, second)]
    assert answers == [(-1250, 3750), (-99, 3651)]
    return answers


@pytest.mark.parametrize("chained", _debit_both_ways())
def test_a_counter_debit_writes_the_card_its_transaction_the_ledger_and_the_audit(app, chained):
    organization, counter, _ = make_seller_with_counter()
    card = make_card(5000)
    now = utcnow().replace(microsecond=0)
    _debits(app, card, organization, counter, now, chained)
    written = _written(card.id, organization.id)

    commission = [cards_commission(1250, organization), cards_commission(99, organization)]
    assert written["card"] == (3651, now, CardStatus.ACTIVE)
    assert written["transactions"] == [
        (TransactionKind.REDEEM, -1250, 3750, organization.id, None, "till-1", counter.id, "", now),
        (TransactionKind.REDEEM, -99, 3651, organization.id, None, None, None, "", now),
    ]
    assert written["ledger"] == [
        (EntryKind.CARD, 1250 - commission[0], 1250, commission[0], f"card {card.id}", None, now),
        (EntryKind.CARD, 99 - commission[1], 99, commission[1], f"card {card.id}", None, now),
    ]
    last4 = card.code[-4:]
    assert written["audit"] == [
        (now, "giftcard.redeemed", counter.id, organization.id, "GiftCard", card.id,
         {"amount_cents": 1250, "balance_after_cents": 3750, "last4": last4}, "203.0.113.9"),
        (now, "giftcard.redeemed", None, organization.id, "GiftCard", card.id,
         {"amount_cents": 99, "balance_after_cents": 3651, "last4": last4}, "203.0.113.9"),
    ]


def cards_commission(gross: int, organization) -> int:
    from marketplace.ledger.services import card_commission

    return card_commission(gross, organization)


@pytest.mark.postgres
def test_on_postgresql_the_chained_statement_and_the_sequence_write_the_same_rows(app):
    organization, counter, _ = make_seller_with_counter()
    card = make_card(5000)
    now = utcnow().replace(microsecond=0)

    _debits(app, card, organization, counter, now, chained=False)
    in_sequence = _written(card.id, organization.id)
    db.session.rollback()
    assert _written(card.id, organization.id)["transactions"] == []

    _debits(app, card, organization, counter, now, chained=True)
    chained = _written(card.id, organization.id)
    assert chained == in_sequence
    assert len(chained["transactions"]) == len(chained["ledger"]) == len(chained["audit"]) == 2


@pytest.mark.parametrize("chained", _debit_both_ways())
@pytest.mark.parametrize("state", ["blocked", "expired"])
def test_a_card_that_cannot_be_spent_is_refused_and_nothing_is_written(app, chained, state):
    organization, counter, _ = make_seller_with_counter()
    card = make_card(5000)
    now = utcnow()
    if state == "blocked":
        card.status = CardStatus.BLOCKED
    else:
        card.expires_at = now
    db.session.commit()
    with pytest.raises(cards.CardError, match=state):
        cards.redeem(card.id, 100, organization=organization, by=counter, now=now,
                     chained=chained)
    written = _written(card.id, organization.id)
    assert written["card"][0] == 5000
    assert written["transactions"] == written["ledger"] == written["audit"] == []
