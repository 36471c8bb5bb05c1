"""The shopper's emails, in the language of the order: confirmation (with the link that opens
the order without an account) and cancellation."""
import re

import pytest

from marketplace.db import db
from marketplace.notifications.services import render_email
from marketplace.orders import cart as carts
from marketplace.orders import services as orders
from tests.orders.helpers import make_cart
from tests.orders.shopper import links_in, path_of, text

NBSP = "\u00a0"
FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def paid_order(market, *, locale: str):
    view = carts.view(make_cart((market.lamp, 2), (market.jam, 1), (market.bowl, 1)))
    order = orders.checkout(
        view,
        buyer=orders.Buyer(email="ada@example.org", name="Ada Lovelace", locale=locale),
        slot_ids={market.canal.id: market.canal_slots[0].id, market.loire.id: market.loire_slots[0].id},
        accepted_terms=True,
    )
    db.session.commit()
    # Outside any request, as when the reconciliation command confirms a payment.
    orders.mark_paid(order, amount_paid_cents=order.total_cents, payment_intent_id="pi_test")
    db.session.commit()
    return order


@pytest.mark.english
def test_confirmation_in_english(client, market, outbox):
    order = paid_order(market, locale="en")
    (mail,) = outbox
    assert mail.to == ["ada@example.org"]
    assert mail.subject == f"Your order {order.reference} is confirmed"
    body = mail.body
    assert "Hello Ada Lovelace," in body
    assert f"Thank you for your order {order.reference}: your payment of €47.00 is received." in body
    assert body.index("Ressourcerie du Canal") < body.index("Atelier de la Loire")
    assert "2 × Lampe de bureau: €30.00" in body and "1 × Bol en céramique: €12.50" in body
    assert "Subtotal: €34.50" in body and "Total: €47.00" in body
    assert "Boutique, 14 rue Francis de Pressensé, 69003 Lyon" in body
    assert "Sonnez à l'interphone." in body
    day = rf"({'|'.join(ENGLISH_DAYS)}) \d+ \w+"
    # A slot that ends after midnight (Paris) names both days: the test may run at any hour.
    assert re.search(rf"Pickup: ({day}, \d\d:00 to \d\d:00|from {day} at \d\d:00 to {day} "
                     rf"at \d\d:00)", body)
    assert ("You may withdraw from your purchase within 14 days after collecting it, "
            "except for perishable goods.") in body
    assert "so it has no right of withdrawal: Confiture de fraises." in body
    assert "The ESS Marché team" in body

    (link,) = links_in(body, "/orders/")
    assert link.startswith(f"http://localhost/orders/{order.reference}?key=")
    page = client.get(path_of(link))  # a guest, in another browser
    assert page.status_code == 200 and order.reference in text(page)

    html, _mimetype = mail.alternatives[0]
    assert f'href="{link.replace("&", "&amp;")}"' in html
    assert "See my order" in html and "Total: €47.00" in html
    assert "Confiture de fraises" in html


def test_confirmation_in_french(client, market, outbox):
    order = paid_order(market, locale="fr")
    (mail,) = outbox
    assert order.reference in mail.subject
    body = mail.body
    assert f"47,00{NBSP}€" in body and f"30,00{NBSP}€" in body
    assert any(f"{day} " in body for day in FRENCH_DAYS)  # the pickup day, in French
    assert not any(day in body for day in ENGLISH_DAYS)
    assert "Bonjour Ada Lovelace," in body
    (link,) = links_in(body, "/orders/")
    assert client.get(path_of(link)).status_code == 200
    html, _mimetype = mail.alternatives[0]
    assert link.replace("&", "&amp;") in html and f"47,00{NBSP}€" in html


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_cancellation_email(app, market, locale):
    view = carts.view(make_cart((market.jam, 1)))
    order = orders.checkout(
        view, buyer=orders.Buyer(email="ada@example.org", name="Ada Lovelace", locale=locale),
        slot_ids={market.canal.id: market.canal_slots[0].id}, accepted_terms=True,
    )
    db.session.commit()
    with app.test_request_context():
        mail = render_email("order_cancelled", to=order.email, locale=order.locale, order=order)
    assert order.reference in mail.subject and order.reference in mail.body
    (link,) = links_in(mail.body, "/orders/")
    assert f"/orders/{order.reference}?key=" in link
    assert links_in(mail.body, "/products")
    if locale == "en":
        assert mail.subject == f"Your order {order.reference} is cancelled"
        assert "It was not paid: nothing was charged to you." in mail.body
    else:
        assert mail.body.startswith("Bonjour Ada Lovelace,")
