"""Concurrent checkouts on PostgreSQL with real threads: never sold beyond stock or capacity."""
import threading

import pytest
import sqlalchemy as sa

from marketplace.db import LockTimeout, db
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from marketplace.orders.models import Cart, Hold, HoldState
from tests import factories
from tests.orders.helpers import make_cart, make_slot
from tests.threads import at_once

pytestmark = pytest.mark.postgres
CLIENTS = 50


@pytest.fixture
def pg_app(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS + 5, "max_overflow": 0})
    with app.app_context():
        yield app


def _race(app, carts_and_slots, organization_id):
    """Every cart checks out at the same moment, each in its own thread and transaction."""
    barrier = threading.Barrier(len(carts_and_slots))
    results = []

    def one(cart_id, slot_id):
        with app.app_context():
            cart = db.session.get(Cart, cart_id)
            view = carts.view(cart)
            barrier.wait()
            try:
                orders.checkout(view, buyer=orders.Buyer(email=f"c{cart_id}@example.org", name="C"),
                                slot_ids={organization_id: slot_id}, accepted_terms=True)
                db.session.commit()
                results.append("ok")
            except (orders.CheckoutError, LockTimeout):
                db.session.rollback()
                results.append("refused")
            except Exception as exc:  # noqa: BLE001 - any other failure is a test failure
                db.session.rollback()
                results.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=pair) for pair in carts_and_slots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_fifty_checkouts_for_the_last_ten_units(pg_app, make_organization, make_product):
    seller = make_organization()
    product = make_product(seller, stock=10)
    # A slot each, so that only the product's lock stands between the buyers.
    pairs = [(make_cart((product, 1)).id, make_slot(seller).id) for _ in range(CLIENTS)]
    db.session.commit()

    results = _race(pg_app, pairs, seller.id)

    assert set(results) <= {"ok", "refused"}, results
    assert results.count("ok") == 10
    db.session.expire_all()
    held = db.session.scalar(sa.select(sa.func.sum(Hold.quantity)).where(
        Hold.product_id == product.id, Hold.state == HoldState.HELD))
    assert held == 10 and product.held_units == 10  # the counter agrees with the holds
    assert carts.available_quantities([product.id])[product.id] == 0


def test_fifty_checkouts_for_a_slot_with_ten_places(pg_app, make_organization, make_product):
    seller = make_organization()
    slot = make_slot(seller, capacity=10)
    # A product each, so that only the slot's lock stands between the buyers.
    pairs = [
        (make_cart((make_product(seller, stock=None, title=f"Atelier {n}"), 1)).id, slot.id)
        for n in range(CLIENTS)
    ]
    db.session.commit()

    results = _race(pg_app, pairs, seller.id)

    assert set(results) <= {"ok", "refused"}, results
    assert results.count("ok") == 10
    db.session.expire_all()
    assert orders.slot_places_taken(slot) == 10 and slot.held_places == 10


def test_a_lock_that_cannot_be_had_answers_busy_not_500(make_app, make_organization, make_product):
    from marketplace.orders.models import Order

    app = make_app(DB_LOCK_TIMEOUT_SECONDS=1)
    with app.app_context():
        seller = make_organization()
        product = make_product(seller, stock=5)
        slot = make_slot(seller)
        db.session.commit()
        client = app.test_client()
        client.post("/cart/add", data={"product_id": product.id, "quantity": 1})

        # Another transaction (a slow checkout, say) keeps the product row locked.
        other = db.engine.connect()
        blocker = other.begin()
        other.execute(sa.text("SELECT id FROM product WHERE id = :id FOR UPDATE"), {"id": product.id})
        try:
            response = client.post("/checkout", data={
                "name": "Ada", "email": "ada@example.org", "accept_terms": "y",
                f"slot-{seller.id}": slot.id,
            })
        finally:
            blocker.rollback()
            other.close()
        assert response.status_code == 503
        assert "busy" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_lock_wait_in_any_statement_answers_busy(make_app, make_organization, make_product,
                                                   make_user):
    from marketplace.catalog.models import ProductStatus
    from marketplace.organizations.models import Role

    app = make_app(DB_LOCK_TIMEOUT_SECONDS=1)
    with app.app_context():
        manager = make_user()
        seller = make_organization(members={Role.MANAGER: manager})
        product = make_product(seller, stock=5)
        key = factories.make_session_key(manager)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key

        other = db.engine.connect()
        blocker = other.begin()
        other.execute(sa.text("SELECT id FROM product WHERE id = :id FOR UPDATE"), {"id": product.id})
        try:  # archiving updates the product row, which the other transaction holds
            response = client.post(f"/orgs/{seller.id}/products/{product.id}/archive")
        finally:
            blocker.rollback()
            other.close()
        assert response.status_code == 503
        db.session.expire_all()
        assert product.status == ProductStatus.ACTIVE


def test_the_sweeper_skips_an_order_whose_product_is_busy_and_releases_the_others(
        make_app, make_organization, make_product):
    """Releasing a hold lowers the product's counter, which waits for the product's row lock:
    a lock that cannot be had in time leaves that order for the next run, not the sweep."""
    from marketplace.orders.models import Order, OrderStatus
    from marketplace.payments.services import expire_stale_orders
    from tests.payments.helpers import end_hold

    app = make_app(DB_LOCK_TIMEOUT_SECONDS=1)
    with app.app_context():
        seller = make_organization()
        busy, free = make_product(seller, stock=5), make_product(seller, stock=5, title="Vélo")
        slot = make_slot(seller)
        db.session.commit()
        stuck = orders.checkout(carts.view(make_cart((busy, 1))), accepted_terms=True,
                                buyer=orders.Buyer(email="a@example.org", name="A"),
                                slot_ids={seller.id: slot.id})
        released = orders.checkout(carts.view(make_cart((free, 1))), accepted_terms=True,
                                   buyer=orders.Buyer(email="b@example.org", name="B"),
                                   slot_ids={seller.id: slot.id})
        db.session.commit()
        end_hold(stuck)
        end_hold(released)

        other = db.engine.connect()
        blocker = other.begin()
        other.execute(sa.text("SELECT id FROM product WHERE id = :id FOR UPDATE"), {"id": busy.id})
        try:
            assert expire_stale_orders() == 1
        finally:
            blocker.rollback()
            other.close()
        db.session.expire_all()
        assert db.session.get(Order, stuck.id).status == OrderStatus.PENDING_PAYMENT
        assert db.session.get(Order, released.id).status == OrderStatus.EXPIRED
        assert (busy.held_units, free.held_units) == (1, 0)
        assert expire_stale_orders() == 1  # the next run releases it
        db.session.expire_all()
        assert busy.held_units == 0


@pytest.mark.parametrize("before", ["no cart", "another line", "this line"])
def test_a_double_click_on_add_to_cart_adds_twice_and_never_fails(app, make_organization,
                                                                 make_product, make_user, before):
    """Several "Add to cart" of one product by one user at the same moment (a double-click, two
    tabs): one cart, one line holding every unit added, and no unique violation."""
    from marketplace.accounts.models import User
    from marketplace.catalog.models import Product

    seller = make_organization()
    product, other = make_product(seller, stock=20), make_product(seller, stock=20)
    user = make_user()
    if before != "no cart":
        carts.add(carts.current_cart(user, create=True), other if before == "another line"
                  else product, 1)
    db.session.commit()
    user_id, product_id = user.id, product.id
    clicks = 4

    def click(_):
        product = db.session.get(Product, product_id)  # as the view reads them
        cart = carts.current_cart(db.session.get(User, user_id), create=True, flush=False)
        return carts.add(cart, product, 1)

    held, errors = at_once(app, click, clicks, commit=True)
    assert errors == []
    first = 1 if before == "this line" else 0
    assert sorted(held) == list(range(first + 1, first + clicks + 1))
    db.session.expire_all()
    (cart,) = db.session.scalars(sa.select(Cart).where(Cart.user_id == user_id)).all()
    assert {line.product_id: line.quantity for line in cart.lines}.get(product_id) == first + clicks


def test_adding_past_what_is_left_holds_what_is_left(app, make_organization, make_product,
                                                     make_user):
    seller = make_organization()
    product = make_product(seller, stock=3)
    cart = carts.current_cart(make_user(), create=True)
    assert carts.add(cart, product, 2) == 2
    assert carts.add(cart, product, 2) == 3  # one more was left
    assert [line.quantity for line in cart.lines] == [3]
    product.stock = 1
    db.session.flush()
    assert carts.add(cart, product, 1) == 1  # less left than the cart held: the line shrinks
