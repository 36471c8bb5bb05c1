"""The payout run's named durable steps (docs/architecture.md, Named exceptions): per seller,
the payout's intent is on disk before Stripe is asked for the transfer, and Stripe's answer is
recorded before the next seller's transfer is asked for."""
import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.db import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, Payout, PayoutStatus
from tests.vouchers.helpers import make_shop


class CrashingGateway:
    """Transfers for the first seller; the process dies at the second seller's transfer."""

    def __init__(self, engine):
        self.engine = engine
        self.seen_on_disk: list[tuple] = []

    def transfer(self, *, amount_cents, destination, idempotency_key, description):
        # Read from another connection: only what was committed is there.
        with self.engine.connect() as other:
            self.seen_on_disk.append(tuple(other.execute(
                sa.select(Payout.organization_id, Payout.status).order_by(Payout.id)).all()))
        if len(self.seen_on_disk) == 2:
            raise RuntimeError("the worker died")
        return f"tr_{idempotency_key}"


def _sellers_owed():
    shops = [make_shop("Ressourcerie du Canal"), make_shop("Atelier Vélo")]
    for shop in shops:
        shop.organization.stripe_account_id = f"acct_{shop.organization.id}"
        shop.organization.payouts_enabled = True
        ledger._add(shop.organization.id, EntryKind.SALE, 3000,
                    source=f"test:{shop.organization.id}")
    db.session.commit()
    return [shop.organization.id for shop in shops]


def test_a_transfer_made_stays_recorded_when_the_next_sellers_transfer_fails(app):
    first, second = _sellers_owed()
    gateway = CrashingGateway(db.engine)
    with pytest.raises(RuntimeError), uow.unit():  # the job's unit fails and rolls back
        ledger.run_payouts(gateway=gateway)
    db.session.remove()

    # Each transfer was asked for with its payout's intent already on disk, and the first
    # seller's transfer recorded before the second one was asked for.
    assert gateway.seen_on_disk == [
        ((first, PayoutStatus.PENDING),),
        ((first, PayoutStatus.PAID), (second, PayoutStatus.PENDING)),
    ]
    payouts = {p.organization_id: p for p in db.session.scalars(sa.select(Payout))}
    assert payouts[first].status == PayoutStatus.PAID
    assert payouts[first].transfer_id == f"tr_payout-{payouts[first].id}"
    assert ledger.balance(first) == 0
    # The second one is left pending, its amount set aside: the next run asks again with the
    # same idempotency key (Stripe answers with the same transfer if it was made).
    assert payouts[second].status == PayoutStatus.PENDING and ledger.balance(second) == 0
