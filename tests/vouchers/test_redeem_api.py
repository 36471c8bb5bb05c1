"""The counter's one-request redemption (JSON): express scanning and scanner apps."""
import pytest

from marketplace.orders.models import OrderStatus
from marketplace.vouchers import qr
from tests.factories import make_product
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
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = shop.counter.get_id()
            session["_fresh"] = True
        response = client.post(f"/orgs/{shop.organization.id}/counter/redeem",
                               json={"q": voucher_of(order.parts[0]).code, "nonce": "n"})
        assert response.status_code == 400
        assert reload(order.parts[0]).status == OrderStatus.PAID
