"""Twenty counters debit one card at the same moment (PostgreSQL, real threads)."""
import threading

import pytest

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard
from marketplace.organizations.models import Organization
from tests import factories
from tests.giftcards.helpers import make_card

pytestmark = pytest.mark.postgres


def test_twenty_concurrent_debits_never_go_below_zero_and_add_up(app):
    card = make_card(5000)
    seller = factories.make_organization(name="Épicerie Solidaire")
    db.session.commit()
    card_id, seller_id = card.id, seller.id
    barrier = threading.Barrier(20)
    done, refused, errors = [], [], []

    def debit(i):
        with app.app_context():
            try:
                barrier.wait()
                cards.redeem(card_id, 700, organization=db.session.get(Organization, seller_id),
                             nonce=f"till-{i}")
                db.session.commit()
                done.append(i)
            except cards.CardError:
                db.session.rollback()
                refused.append(i)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=debit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(done) == 7 and len(refused) == 13  # 7 × 7 € = 49 € of 50 €
    db.session.expire_all()
    fresh = db.session.get(GiftCard, card_id)
    assert fresh.balance_cents == 100
    assert cards.ledger_sum(card_id) == fresh.balance_cents
