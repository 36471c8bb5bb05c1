"""Payouts and onboarding through the real stripe SDK against the in-process fake."""
import pytest

from marketplace.db import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import PayoutStatus
from tests.payments.fake_stripe import FakeStripe, stripe_settings
from tests.payments.helpers import reload
from tests.vouchers.helpers import make_shop


@pytest.fixture
def fake_stripe():
    return FakeStripe()


@pytest.fixture
def app(make_app, fake_stripe):
    app = make_app(**stripe_settings(fake_stripe))
    with app.app_context():
        yield app


def credit(shop, cents=3000):
    from marketplace.ledger.models import EntryKind

    ledger._add(shop.organization.id, EntryKind.SALE, cents, source=f"test:{shop.organization.id}")
    db.session.commit()


def test_onboarding_then_a_transfer_with_the_payout_id_as_idempotency_key(app, client, login, fake_stripe):
    from marketplace.organizations.models import Membership, Role
    from tests import factories

    shop = make_shop()
    owner = factories.make_user(email="owner-payouts@example.org")
    db.session.add(Membership(organization=shop.organization, user=owner, role=Role.OWNER))
    db.session.commit()
    login(owner)
    response = client.post(f"/orgs/{shop.organization.id}/payouts/connect")
    assert response.status_code == 303 and response.location.startswith("https://connect.stripe.com/")
    account = reload(shop.organization).stripe_account_id
    assert account.startswith("acct_test_")
    client.get(f"/orgs/{shop.organization.id}/payouts/connected")
    assert reload(shop.organization).payouts_enabled is False  # not finished at Stripe
    fake_stripe.finish_onboarding(account)
    client.get(f"/orgs/{shop.organization.id}/payouts/connected")
    assert reload(shop.organization).payouts_enabled is True

    credit(shop)
    run = ledger.run_payouts()
    (payout,) = run.paid
    (call,) = fake_stripe.calls_to("post", "/v1/transfers")
    assert call.idempotency_key == f"payout-{payout.id}"
    assert call.params["destination"] == account and call.params["amount"] == "3000"
    assert ledger.balance(shop.organization.id) == 0


def test_a_refused_transfer_puts_the_amount_back(app, fake_stripe):
    shop = make_shop()
    shop.organization.stripe_account_id, shop.organization.payouts_enabled = "acct_unknown", True
    db.session.commit()
    credit(shop)
    run = ledger.run_payouts()
    (failed,) = run.failed
    assert failed.status == PayoutStatus.FAILED and "capabilities" in failed.failure
    assert ledger.balance(shop.organization.id) == 3000
