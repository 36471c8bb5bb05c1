"""Whatever happens to a card, its transactions add up to its balance, which never goes below
zero (hypothesis: random sequences of issue, redeem, refund, donate all or part, adjust,
expire)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.db import db, utcnow
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.ledger import services as ledger
from tests import factories

operations = st.lists(st.one_of(
    st.tuples(st.just("redeem"), st.integers(1, 20000)),
    st.tuples(st.just("refund"), st.integers(1, 5000)),
    st.tuples(st.just("adjust"), st.integers(-20000, 20000).filter(bool)),
    st.tuples(st.just("donate"), st.just(0)),
    st.tuples(st.just("donate_part"), st.integers(-100, 20000)),
    st.tuples(st.just("block"), st.just(0)),
    st.tuples(st.just("unblock"), st.just(0)),
    st.tuples(st.just("expire"), st.just(0)),
), max_size=25)


@pytest.fixture
def world(app):
    seller = factories.make_organization(name="Épicerie Solidaire")
    association = factories.make_organization(name="Les Restos du Quartier")
    admin = factories.make_user(email="admin-ledger@example.org", is_admin=True)
    db.session.commit()
    return seller, association, admin


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(1000, 15000), steps=operations)
def test_transactions_always_add_up_to_the_balance(world, amount, steps):
    seller, association, admin = world
    card = cards.issue(amount)
    db.session.commit()
    for kind, value in steps:
        try:
            if kind == "redeem":
                cards.redeem(card.id, value, organization=seller)
            elif kind == "refund":
                cards.refund(card.id, value)
            elif kind == "adjust":
                cards.adjust(card.id, value, reason="test", by=admin)
            elif kind == "donate":
                cards.donate(card.id, association)
            elif kind == "donate_part":
                cards.donate(card.id, association, amount_cents=value)
            elif kind == "block":
                cards.block(card.id, reason="lost", by=admin)
            elif kind == "unblock":
                cards.unblock(card.id, by=admin)
            elif kind == "expire":
                cards.expire_due(now=utcnow() + timedelta(days=800))
            db.session.commit()
        except cards.CardError:
            db.session.rollback()
        db.session.expire_all()
        fresh = db.session.get(GiftCard, card.id)
        assert fresh.balance_cents >= 0
        assert cards.ledger_sum(card.id) == fresh.balance_cents
        last = db.session.query(CardTransaction).filter_by(card_id=card.id) \
            .order_by(CardTransaction.id.desc()).first()
        assert last.balance_after_cents == fresh.balance_cents
        # The association is credited exactly what the cards gave it, whole or in part.
        given = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
            CardTransaction.amount_cents), 0)).where(CardTransaction.kind == "donate"))
        assert ledger.balance(association.id) == -given
