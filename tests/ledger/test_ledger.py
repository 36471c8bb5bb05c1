"""What the platform owes each seller, and payouts that pay it exactly once."""
import sqlalchemy as sa

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout
from marketplace.payments import refunds
from marketplace.payments.demo_gateway import DemoGateway
from tests.factories import make_product
from tests.giftcards.helpers import make_card
from tests.payments.helpers import reload
from tests.vouchers.helpers import make_shop, paid_order


def test_a_paid_order_credits_each_seller_less_commission_once(app):
    canal = make_shop("Ressourcerie du Canal")
    velo = make_shop("Atelier Vélo")
    canal.organization.commission_rate_bp = 1000  # 10 %
    db.session.commit()
    paid_order([(make_product(canal.organization, price_cents=2000, stock=3), 2),
                (make_product(velo.organization, price_cents=1000, stock=3), 1)])
    assert ledger.balance(canal.organization.id) == 4000 - 400
    assert ledger.balance(velo.organization.id) == 1000 - 50  # platform default 5 %
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 2


def test_a_refund_takes_the_sellers_share_off(app):
    shop = make_shop()
    order = paid_order([(make_product(shop.organization, price_cents=2000, stock=3), 2)])
    part = order.parts[0]
    refunds.refund_part(part, quantities={part.lines[0].id: 1}, by=shop.manager, reason="Broken")
    db.session.commit()
    assert ledger.balance(shop.organization.id) == (4000 - 200) - (2000 - 100)
    kinds = db.session.scalars(sa.select(LedgerEntry.kind).order_by(LedgerEntry.id)).all()
    assert kinds == [EntryKind.SALE, EntryKind.REFUND]


def test_a_payout_run_pays_each_seller_its_balance_and_a_second_run_pays_nothing(app, client, login):
    canal = make_shop("Ressourcerie du Canal")
    velo = make_shop("Atelier Vélo")
    none = make_shop("Sans Compte")
    for shop in (canal, velo, none):
        paid_order([(make_product(shop.organization, price_cents=3000, stock=3), 1)])
    card = make_card(5000)
    cards.redeem(card.id, 1000, organization=velo.organization)
    db.session.commit()
    gateway = DemoGateway()
    for shop in (canal, velo):  # onboarding, simulated in demo mode
        ledger.start_onboarding(shop.organization, refresh_url="/", return_url="/", gateway=gateway)
        ledger.refresh_account(reload(shop.organization), gateway=gateway)
    owed = {s.organization.id: ledger.balance(s.organization.id) for s in (canal, velo, none)}
    assert owed[velo.organization.id] == 2850 + 950

    run = ledger.run_payouts(gateway=gateway)
    assert {p.organization_id: p.amount_cents for p in run.paid} == {
        canal.organization.id: owed[canal.organization.id],
        velo.organization.id: owed[velo.organization.id]}
    assert all(p.transfer_id.startswith("demo_tr_") for p in run.paid)
    assert [(o.id, amount) for o, amount in run.without_account] == [
        (none.organization.id, owed[none.organization.id])]
    assert ledger.balance(canal.organization.id) == 0 and ledger.balance(velo.organization.id) == 0

    again = ledger.run_payouts(gateway=gateway)
    assert again.paid == [] and again.failed == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 2

    login(canal.manager)
    html = client.get(f"/orgs/{canal.organization.id}/payouts").get_data(as_text=True)
    assert "What we owe you" in html and "We owe you today" in html and "€0.00" in html
    assert "demo_tr_" in html  # the transfer, in small print for support


def test_below_the_minimum_nothing_is_paid(make_app):
    app = make_app(PAYOUT_MINIMUM_CENTS=100_000)
    with app.app_context():
        shop = make_shop()
        paid_order([(make_product(shop.organization, price_cents=3000, stock=3), 1)])
        shop.organization.stripe_account_id, shop.organization.payouts_enabled = "demo_acct_x", True
        db.session.commit()
        run = ledger.run_payouts(gateway=DemoGateway())
        assert run.paid == [] and run.below_minimum[0][1] == 2850


def test_counter_staff_do_not_see_the_money_page(app, client, login):
    shop = make_shop()
    login(shop.counter)
    assert client.get(f"/orgs/{shop.organization.id}/payouts").status_code == 403


def test_a_payout_recorded_by_a_run_that_died_before_the_transfer_is_paid_by_the_next(app):
    """The run recorded the payout (the balance is 0 now) and died before asking the gateway:
    the next run asks for it, with the same key, once."""
    shop = make_shop()
    paid_order([(make_product(shop.organization, price_cents=3000, stock=3), 1)])
    shop.organization.stripe_account_id, shop.organization.payouts_enabled = "demo_acct_x", True
    db.session.commit()
    payout = ledger._start_payout(shop.organization.id, 100, ledger.PayoutRun())
    db.session.commit()  # the first durable step, then the worker was killed
    assert ledger.balance(shop.organization.id) == 0 and payout.status.value == "pending"

    run = ledger.run_payouts(gateway=DemoGateway())
    assert [p.id for p in run.paid] == [payout.id]
    assert reload(payout).status.value == "paid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1
    assert ledger.run_payouts(gateway=DemoGateway()).paid == []
