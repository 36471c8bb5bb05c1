"""An order of gift cards alone reads as such: no pickup slot, no "retrait", the gift cards'
own withdrawal rule; the buyer is told, for each card, to whom and when it is sent. A cart
with goods and cards keeps the pickup wording for the goods only."""
import re
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from marketplace.db import db, utcnow
from marketplace.giftcards.models import GiftCard
from marketplace.orders.models import Order
from tests.factories import make_product, make_user
from tests.giftcards.test_purchase import buy, checkout
from tests.orders.shopper import log_in
from tests.vouchers.helpers import make_shop

PARIS = ZoneInfo("Europe/Paris")
# The French words of collecting goods ("Retirer", to remove a line, is not one of them).
PICKUP_WORDS = re.compile(r"retrait|retiré|créneau", re.IGNORECASE)


def visible_text(response_or_html) -> str:
    html = response_or_html if isinstance(response_or_html, str) \
        else response_or_html.get_data(as_text=True)
    html = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", html)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def pay(client, response):
    """The demo payment page's "Pay" button; returns the success page."""
    page = client.get(urlsplit(response.location).path)
    action = re.search(r'action="(/payments/demo/[^"]+/pay)"', page.get_data(as_text=True)).group(1)
    return client.post(action, follow_redirects=True)


@pytest.fixture
def app(make_app, request):
    """The site in English, or in the language a test asks for (indirect parametrize)."""
    app = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None,
                   BABEL_DEFAULT_LOCALE=getattr(request, "param", "en"))
    with app.app_context():
        yield app


def order_mail(outbox, order):
    mails = [m for m in outbox if order.reference in m.subject]
    assert len(mails) == 1, [m.subject for m in outbox]
    (mail,) = mails
    return mail, mail.alternatives[0][0]


@pytest.mark.parametrize("app", ["fr"], indirect=True)
def test_a_french_cards_only_order_never_speaks_of_pickup(client, outbox):
    day = utcnow().date() + timedelta(days=10)
    buy(client, for_whom="gift", recipient_name="Léa", recipient_email="lea@example.org",
        deliver_on=day.isoformat())
    buy(client, amount="3000")

    cart = client.get("/cart")
    assert "Passer au paiement" in visible_text(cart)
    assert not PICKUP_WORDS.search(visible_text(cart))
    page = visible_text(client.get("/checkout"))
    assert not PICKUP_WORDS.search(page), PICKUP_WORDS.findall(page)
    assert "dans les 14 jours suivant son achat, tant qu'elle n'a pas été utilisée" in page

    success = visible_text(pay(client, checkout(client)))
    order = db.session.scalar(sa.select(Order))
    assert not PICKUP_WORDS.search(success), PICKUP_WORDS.findall(success)
    # "13 décembre 2026" on one line, "1er décembre 2026" on the first of a month.
    long_day = f"{'1er' if day.day == 1 else day.day}\u00a0{format_date(day, 'MMMM y', locale='fr')}"
    assert f"envoyée par e-mail à lea@example.org le {long_day}" in success
    assert "Elle vous a été envoyée dans un e-mail séparé, avec son QR code" in success

    mail, html = order_mail(outbox, order)
    for text in (mail.body, visible_text(html)):
        assert not PICKUP_WORDS.search(text), PICKUP_WORDS.findall(text)
        assert "Carte cadeau solidaire pour Léa\u00a0: 50,00\u00a0€" in text
        assert f"sera envoyée par e-mail à lea@example.org le {long_day}" in text
        assert "Carte cadeau solidaire\u00a0: 30,00\u00a0€" in text
        assert "dans les 14 jours suivant son achat, tant qu'elle n'a pas été utilisée" in text

    order_page = visible_text(client.get(f"/orders/{order.reference}"))
    assert not PICKUP_WORDS.search(order_page), PICKUP_WORDS.findall(order_page)
    assert f"sera envoyée par e-mail à lea@example.org le {long_day}" in order_page


def test_the_buyers_email_says_to_whom_and_when_each_card_is_sent(client, outbox):
    buyer = make_user(email="camille@example.org", name="Camille Martin", locale="en")
    db.session.commit()
    log_in(client, buyer)
    day = utcnow().date() + timedelta(days=10)
    buy(client, for_whom="gift", recipient_name="Léa", recipient_email="lea@example.org",
        deliver_on=day.isoformat())
    buy(client, for_whom="gift", recipient_name="Noé", recipient_email="noe@example.org")
    buy(client, amount="3000")
    checkout_page = visible_text(client.get("/checkout"))
    assert "Pickup" not in checkout_page and "collect" not in checkout_page
    assert ("You may withdraw from the purchase of a gift card within 14 days after buying it, "
            "as long as it has not been used: it is then cancelled and refunded in full.") \
        in checkout_page
    assert "Your items are kept" not in checkout_page

    success = visible_text(pay(client, checkout(client)))
    assert "Come to each pickup place" not in success
    order = db.session.scalar(sa.select(Order))
    lea, noe, mine = db.session.scalars(sa.select(GiftCard).order_by(GiftCard.id)).all()
    long_day = format_date(day, "d MMMM y", locale="en")  # 13 December 2026 (day first)
    today = format_date(noe.delivered_at.astimezone(PARIS).date(), "d MMMM y", locale="en")

    mail, html = order_mail(outbox, order)
    for text in (mail.body, visible_text(html)):
        assert "collect" not in text and "Pickup" not in text
        assert "Ethical gift card for Léa: €50.00" in text
        assert f"It will be sent by email to lea@example.org on {long_day}." in text
        assert f"It was sent by email to noe@example.org on {today}." in text
        assert "Ethical gift card: €30.00" in text
        assert ("It was sent to you in a separate email, with its QR code and the printable "
                "card. You will also find it in your account, under “My gift cards”.") in text
    # ... and each card did go where the email says, when it says.
    assert lea.delivered_at is None and lea.deliver_on == day
    assert [m.to for m in outbox if noe.display_code in m.body] == [["noe@example.org"]]
    assert [m.to for m in outbox if mine.display_code in m.body] == [["camille@example.org"]]
    assert mine.holder_user_id == buyer.id
    assert "/account/cards" in html


def test_a_guest_buying_a_card_for_themselves_is_not_sent_to_an_account(client, outbox):
    buy(client)
    pay(client, checkout(client))
    order = db.session.scalar(sa.select(Order))
    mail, _html = order_mail(outbox, order)
    assert "It was sent to you in a separate email, with its QR code and the printable card." \
        in mail.body
    assert "in your account" not in mail.body


def test_a_mixed_cart_keeps_the_pickup_wording_for_the_goods_only(client, outbox):
    shop = make_shop()
    lamp = make_product(shop.organization, title="Lampe", price_cents=1500, stock=3)
    db.session.commit()
    client.post("/cart/add", data={"product_id": lamp.id, "quantity": 1})
    buy(client, for_whom="gift", recipient_name="Léa", recipient_email="lea@example.org")

    assert "Choose pickup slots and pay" in visible_text(client.get("/cart"))
    page = visible_text(client.get("/checkout"))
    assert f"Pickup at {shop.organization.name}" in page
    assert ("Goods: you may withdraw within 14 days after collecting them, except for "
            "perishable goods.") in page
    assert "You may withdraw from the purchase of a gift card within 14 days" in page
    assert "Your items are kept for" in page

    success = visible_text(pay(client, checkout(
        client, **{f"slot-{shop.organization.id}": shop.slot.id})))
    assert "Come to each pickup place at the time you chose" in success
    assert "It was sent by email to lea@example.org on" in success
    order = db.session.scalar(sa.select(Order))
    mail, _html = order_mail(outbox, order)
    assert "Pickup: " in mail.body and "1 × Lampe: €15.00" in mail.body
    assert "Ethical gift card for Léa: €50.00" in mail.body
    assert "It was sent by email to lea@example.org on" in mail.body
    assert "Goods: you may withdraw within 14 days after collecting them" in mail.body
    assert "You may withdraw from the purchase of a gift card within 14 days" in mail.body
