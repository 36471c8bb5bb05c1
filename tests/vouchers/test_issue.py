"""A paid order part gets a voucher: token, short code, QR code (page, email, PDF) that every
reader gets the voucher URL back from."""
import email
import io

import pypdfium2
import pytest

from marketplace.db import db
from marketplace.orders import services as orders
from marketplace.vouchers import codes
from marketplace.vouchers.models import Voucher
from tests.factories import make_product
from tests.payments.helpers import place_order
from tests.vouchers.helpers import decode_image, decode_png, make_shop, paid_order, voucher_of

BASE = "https://marche.example.org"


@pytest.fixture
def app(make_app):
    app = make_app(SERVER_BASE_URL=BASE)
    with app.app_context():
        yield app


@pytest.fixture
def order(app):
    canal = make_shop("Ressourcerie du Canal")
    velo = make_shop("Atelier Vélo Solidaire")
    lamp = make_product(canal.organization, title="Lampe de bureau", price_cents=1550, stock=3)
    pump = make_product(velo.organization, title="Pompe à vélo", price_cents=900, stock=3)
    return paid_order([(lamp, 2), (pump, 1)])


def test_each_paid_part_gets_one_voucher_with_a_long_token_and_a_short_code(order):
    vouchers = [voucher_of(part) for part in order.parts]
    assert len(vouchers) == 2 and len({v.token for v in vouchers}) == 2
    for voucher in vouchers:
        assert len(voucher.token) == 32  # 24 random bytes: 192 bits
        assert len(voucher.code) == 8 and set(voucher.code) <= set(codes.CODE_ALPHABET)
        assert not set(voucher.code) & set("01ILOUV")
        assert voucher.display_code == f"{voucher.code[:4]}-{voucher.code[4:]}"


def test_paying_twice_keeps_the_same_vouchers(order):
    before = {v.id for v in db.session.query(Voucher)}
    orders.mark_paid(order, amount_paid_cents=order.total_cents, payment_intent_id="pi_test")
    db.session.commit()
    assert {v.id for v in db.session.query(Voucher)} == before


def test_an_unpaid_order_has_no_voucher(app):
    shop = make_shop()
    order = place_order([(make_product(shop.organization, stock=2), 1)])
    assert voucher_of(order.parts[0]) is None


def test_the_qr_image_holds_the_https_voucher_url(client, order):
    voucher = voucher_of(order.parts[0])
    response = client.get(f"/v/{voucher.token}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert decode_png(response.data) == [f"{BASE}/v/{voucher.token}"]


def test_the_voucher_page_shows_seller_slot_code_and_lines(client, order):
    part = order.parts[0]
    voucher = voucher_of(part)
    html = client.get(f"/v/{voucher.token}").get_data(as_text=True)
    assert part.organization.name in html and voucher.display_code in html
    assert "2 × Lampe de bureau" in html and "1 rue de la Paix" in html
    assert f"/v/{voucher.token}/qr.png" in html and f"/v/{voucher.token}/voucher.pdf" in html


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 200, "%00" * 11])
def test_an_unknown_or_malformed_token_is_404(client, order, token):
    assert client.get(f"/v/{token}").status_code in (400, 404)
    assert client.get(f"/v/{token}/qr.png").status_code in (400, 404)
    assert client.get(f"/v/{token}/voucher.pdf").status_code in (400, 404)


def test_the_confirmation_email_shows_each_voucher_qr_inline(app, make_user):
    from tests.factories import make_product as product

    canal = make_shop("Ressourcerie du Canal")
    velo = make_shop("Atelier Vélo Solidaire")
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    order = paid_order([(product(canal.organization, stock=2), 1),
                        (product(velo.organization, stock=2), 1)])
    (message,) = [m for m in mailman.outbox if "order" in m.subject.lower()]
    parsed = email.message_from_bytes(message.message().as_bytes())
    images = {part["Content-ID"].strip("<>"): part.get_payload(decode=True)
              for part in parsed.walk() if part.get_content_type() == "image/png"}
    html = next(part.get_payload(decode=True).decode() for part in parsed.walk()
                if part.get_content_type() == "text/html")
    vouchers = [voucher_of(part) for part in order.parts]
    assert len(images) == 2
    for voucher in vouchers:
        cid = f"voucher-{voucher.code}"
        assert f'src="cid:{cid}"' in html and voucher.display_code in html
        assert decode_png(images[cid]) == [f"{BASE}/v/{voucher.token}"]
        assert f"{BASE}/v/{voucher.token}" in message.body


def test_the_pdf_has_the_address_slot_and_a_qr_code_that_decodes(client, order):
    part = order.parts[0]
    voucher = voucher_of(part)
    response = client.get(f"/v/{voucher.token}/voucher.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(response.data))
    page = document[0]
    text = page.get_textpage().get_text_range()
    assert part.organization.name in text and "1 rue de la Paix" in text and "69003 Lyon" in text
    assert voucher.display_code in text and order.reference in text
    assert "2 × Lampe de bureau" in text
    image = page.render(scale=2).to_pil()
    assert decode_image(image) == [f"{BASE}/v/{voucher.token}"]


def test_the_order_page_shows_the_voucher_of_each_part(client, order, login):
    from marketplace.orders.links import order_key

    html = client.get(f"/orders/{order.reference}?key={order_key(order)}").get_data(as_text=True)
    for part in order.parts:
        voucher = voucher_of(part)
        assert f"/v/{voucher.token}/qr.png" in html and voucher.display_code in html
