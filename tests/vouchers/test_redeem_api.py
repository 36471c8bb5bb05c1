"""The counter's one-request redemption (JSON): express scanning and scanner apps."""
import pytest

from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.vouchers import qr
from tests.factories import make_product, make_session_key
from tests.payments.helpers import reload
from tests.vouchers.helpers import make_shop, paid_order, voucher_of


@pytest.fixture
def shop(app):
    return make_shop("Ressourcerie du Canal")


@pytest.fixture
def order(shop):
    return paid_order([(make_product(shop.organization, title="Lampe de bureau", stock=5), 2)])


def redeem(client, shop, **body):
    return client.post(f"/orgs/{shop.organization.id}/counter/redeem", json=body)


def test_a_scan_redeems_at_once_and_a_retry_gets_the_same_answer(client, login, shop, order):
    login(shop.counter)
    url = qr.voucher_url(voucher_of(order.parts[0]))
    first = redeem(client, shop, q=url, nonce="n-1")
    assert first.status_code == 200
    assert first.json["result"] == "collected" and first.json["replayed"] is False
    assert first.json["name"] == "Camille Martin" and first.json["complete"] is True
    assert first.json["lines"][0]["title"] == "Lampe de bureau" and first.json["lines"][0]["quantity"] == 2
    assert reload(order.parts[0]).status == OrderStatus.COLLECTED

    retry = redeem(client, shop, q=url, nonce="n-1")
    assert retry.status_code == 200 and retry.json["replayed"] is True
    assert retry.json["collected_at"] == first.json["collected_at"]

    again = redeem(client, shop, q=url, nonce="n-2")
    assert again.status_code == 409 and again.json["result"] == "refused"
    assert again.json["collected_by"] == "Lucie Moreau"
    assert again.json["message"].startswith("Already collected on")


@pytest.mark.parametrize("body", [None, [], {"q": 1, "nonce": "x"}, {"q": "x"},
                                  {"q": "x", "nonce": "n", "lines": ["1"]},
                                  {"q": "x", "nonce": "n", "lines": [True]},
                                  {"q": "x", "nonce": "n", "lines": [2**40]}])
def test_a_malformed_body_is_a_json_400(client, login, shop, order, body):
    login(shop.counter)
    response = client.post(f"/orgs/{shop.organization.id}/counter/redeem", json=body)
    assert response.status_code == 400 and response.json["result"] == "invalid"
    assert response.json["fields"]  # which fields are wrong ("_schema": not an object)
    assert reload(order.parts[0]).status == OrderStatus.PAID


def test_unknown_code_and_other_seller(client, login, shop, order):
    other = make_shop("Épicerie Solidaire")
    login(other.counter)
    response = redeem(client, other, q=voucher_of(order.parts[0]).code, nonce="n")
    assert response.status_code == 403 and "another seller" in response.json["message"]
    response = redeem(client, other, q="ZZZZ-ZZZZ", nonce="n")
    assert response.status_code == 404 and response.json["result"] == "not_found"
    assert reload(order.parts[0]).status == OrderStatus.PAID


def test_the_csrf_token_is_required(make_app, login):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        shop = make_shop()
        order = paid_order([(make_product(shop.organization, stock=5), 1)])
        key = make_session_key(shop.counter)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key
            session["_fresh"] = True
        response = client.post(f"/orgs/{shop.organization.id}/counter/redeem",
                               json={"q": voucher_of(order.parts[0]).code, "nonce": "n"})
        assert response.status_code == 400
        assert reload(order.parts[0]).status == OrderStatus.PAID


def test_the_order_is_collected_when_its_last_part_is(client, login, shop):
    """Two sellers in one order: each counter collects its own part, partly then fully; the
    order is collected with the last line of the last part, and each collection is audited."""
    import sqlalchemy as sa

    from marketplace.audit.models import AuditEntry
    from marketplace.db import db

    other = make_shop("Épicerie du Canal")
    lamp = make_product(shop.organization, title="Lampe de bureau", stock=5)
    jam = make_product(other.organization, title="Confiture", stock=5)
    honey = make_product(other.organization, title="Miel", stock=5)
    order = paid_order([(lamp, 1), (jam, 2), (honey, 1)])
    first, second = sorted(order.parts, key=lambda p: p.organization_id != shop.organization.id)

    login(shop.counter)
    assert redeem(client, shop, q=voucher_of(first).code, nonce="a").json["complete"] is True
    assert reload(first).status == OrderStatus.COLLECTED
    assert reload(order).status == OrderStatus.PAID  # the grocer's part is still to collect

    login(other.counter)
    jam_line = next(line.id for line in second.lines if line.title == "Confiture")
    partly = redeem(client, other, q=voucher_of(second).code, nonce="b", lines=[jam_line])
    assert partly.json["complete"] is False and [x["title"] for x in partly.json["lines"]] == ["Confiture"]
    assert reload(second).status == OrderStatus.PAID and reload(order).status == OrderStatus.PAID
    rest = redeem(client, other, q=voucher_of(second).code, nonce="c")
    assert rest.json["complete"] is True and [x["title"] for x in rest.json["lines"]] == ["Miel"]
    assert reload(second).status == OrderStatus.COLLECTED
    assert reload(order).status == OrderStatus.COLLECTED

    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "voucher.collected").order_by(AuditEntry.id)).all()
    assert [(e.organization_id, e.actor_id, e.data["complete"]) for e in entries] == [
        (shop.organization.id, shop.counter.id, True),
        (other.organization.id, other.counter.id, False),
        (other.organization.id, other.counter.id, True),
    ]
    assert entries[1].data["lines"] == [{"title": "Confiture", "quantity": 2}]
    assert entries[1].subject_id == second.id and entries[1].data["reference"] == order.reference
