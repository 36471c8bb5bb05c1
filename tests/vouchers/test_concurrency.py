"""Twenty counters scan one voucher at the same moment (PostgreSQL, real threads): one collection."""
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.models import CollectedLine, Collection
from tests.factories import make_product
from tests.payments.helpers import reload
from tests.threads import at_once
from tests.vouchers.helpers import make_shop, paid_order, voucher_of

pytestmark = pytest.mark.postgres


def run_together(app, work, n: int) -> tuple[list, list]:
    return at_once(app, work, n, commit=True)


@pytest.fixture
def setup(app):
    shop = make_shop()
    order = paid_order([(make_product(shop.organization, stock=5), 2),
                        (make_product(shop.organization, stock=5), 1)])
    voucher = voucher_of(order.parts[0])
    ids = (shop.organization.id, shop.counter.id, voucher.id, voucher.token)
    db.session.commit()
    return order, ids


def redeem(ids, nonce, how="form"):
    """`form`: the counter page's Collected button (by voucher id); `scan`: the express
    redemption of the scanned token."""
    from marketplace.accounts.models import User
    from marketplace.organizations.models import Organization

    org_id, user_id, voucher_id, token = ids
    who = {"organization": db.session.get(Organization, org_id), "by": db.session.get(User, user_id)}
    if how == "scan":
        return vouchers.collect_scanned(token, nonce=nonce, **who).collection_id
    return vouchers.collect(voucher_id, nonce=nonce, **who).collection_id


@pytest.mark.parametrize("how", ["form", "scan"])
def test_twenty_scans_of_one_voucher_record_exactly_one_collection(app, setup, how):
    order, ids = setup
    results, errors = run_together(app, lambda i: redeem(ids, f"scan-{i}", how), 20)
    assert len(results) == 1
    assert len(errors) == 19 and all(isinstance(e, vouchers.AlreadyCollected) for e in errors)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Collection)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CollectedLine)) == 2
    assert reload(order.parts[0]).status == OrderStatus.COLLECTED


def test_twenty_retries_of_one_request_all_get_the_first_answer(app, setup):
    _order, ids = setup
    results, errors = run_together(app, lambda i: redeem(ids, "same-nonce"), 20)
    assert errors == [] and len(results) == 20 and len(set(results)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Collection)) == 1
