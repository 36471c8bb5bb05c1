"""The shopper's side in tests: two sellers with pickup slots, a stand-in for the payment
gateway, and the requests a browser would send."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from marketplace.db import db, utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.pickup import services as pickup
from tests import factories
from tests.factories import DEFAULT_PASSWORD

PAYMENT_PAGE = "https://pay.example/"


@dataclass
class Shop:
    canal: object  # Ressourcerie du Canal, Lyon
    loire: object  # Atelier de la Loire, Saint-Étienne
    lamp: object  # 15 €, 3 in stock, canal
    jam: object  # 4,50 €, unlimited, perishable, canal
    bowl: object  # 12,50 €, 5 in stock, loire
    canal_slots: list = field(default_factory=list)  # open, in 3 and 4 days
    loire_slots: list = field(default_factory=list)  # open, in 3 days


def add_location(organization, name="Boutique"):
    return pickup.save_location(
        None, organization, by=None, name=name, address_line="14 rue Francis de Pressensé",
        postcode=organization.postcode, town=organization.town, instructions="Sonnez à l'interphone.",
    )


def add_slot(location, *, days: float, capacity: int = 5, cutoff_hours: int = 2):
    starts = (utcnow() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                           capacity=capacity, cutoff_hours=cutoff_hours, by=None)


def build_shop() -> Shop:
    canal = factories.make_organization(name="Ressourcerie du Canal", town="Lyon", postcode="69003")
    loire = factories.make_organization(name="Atelier de la Loire", town="Saint-Étienne",
                                        postcode="42000")
    shop = Shop(
        canal=canal,
        loire=loire,
        lamp=factories.make_product(canal, title="Lampe de bureau", price_cents=1500, stock=3),
        jam=factories.make_product(canal, title="Confiture de fraises", price_cents=450,
                                   stock=None, is_perishable=True, category_slug="food-grocery",
                                   vat_rate_bp=550),
        bowl=factories.make_product(loire, title="Bol en céramique", price_cents=1250, stock=5,
                                    category_slug="home-kitchen"),
    )
    canal_place = add_location(canal)
    shop.canal_slots = [add_slot(canal_place, days=3), add_slot(canal_place, days=4)]
    shop.loire_slots = [add_slot(add_location(loire, "Atelier"), days=3)]
    db.session.commit()
    return shop


class FakePayments:
    """Stands in for marketplace.payments.services: a session per payment attempt, paid when
    the test says so, fulfilled through the real orders.services.mark_paid."""

    def __init__(self):
        self.started: list[str] = []
        self.paid: set[str] = set()
        self.expired: list[str] = []

    def start_payment(self, order):
        session_id = f"cs_test_{order.id}_{len(self.started) + 1}"
        order.checkout_session_id = session_id
        order.payment_gateway = "demo"
        db.session.flush()
        self.started.append(session_id)
        return SimpleNamespace(id=session_id, url=PAYMENT_PAGE + session_id)

    def pay(self, order) -> str:
        self.paid.add(order.checkout_session_id)
        return order.checkout_session_id

    def fulfil_checkout_session(self, session_id):
        order = orders.get_by_checkout_session(session_id)
        if order is None:
            return None
        if session_id in self.paid:
            orders.mark_paid(order, amount_paid_cents=order.total_cents,
                             payment_intent_id=f"pi_{session_id}")
            db.session.commit()
        return order

    def expire_remote_session(self, session_id):
        self.expired.append(session_id)
        return True


# --- what a browser sends --------------------------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def add_to_cart(client, product, quantity=1):
    return client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})


def log_in(client, user):
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, text(response)
    return response


GUEST = {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "06 12 34 56 78"}


def checkout(client, slots: dict, *, accept=True, **details):
    """POST the checkout form; `slots` maps each organization to the chosen PickupSlot."""
    data = {**details}
    data.update({f"slot-{org.id}": slot.id for org, slot in slots.items()})
    if accept:
        data["accept_terms"] = "y"
    return client.post("/checkout", data=data)


def last_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(db.select(Order).order_by(Order.id.desc()).limit(1))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links_in(body: str, fragment: str) -> list[str]:
    return [url for url in re.findall(r"https?://[^\s<>\"']+", body) if fragment in url]


def where(response) -> str:
    """The path a redirect goes to."""
    assert response.status_code in (302, 303), response.status_code
    return path_of(response.headers["Location"])


def product_path(product) -> str:
    from marketplace.catalog.views import product_url

    return path_of(product_url(product))
