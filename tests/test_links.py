"""One rule for every absolute link the site gives out (emails, QR codes, PDFs, the payment
page's return addresses, the API): SERVER_BASE_URL, the site's public address, whatever host
the request that caused it came through (here the test client's http://localhost)."""
from __future__ import annotations

import email
import io
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2
import pytest
import sqlalchemy as sa

from marketplace import create_app
from marketplace.db import db
from marketplace.giftcards.models import GiftCard
from marketplace.orders.models import Order, OrderStatus
from marketplace.vouchers.models import Voucher
from tests.factories import make_product
from tests.vouchers.helpers import decode_image, decode_png, make_shop

BASE = "http://127.0.0.1:8123"
URL = re.compile(r"https?://[^\s<>\"')]+")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(make_app):
    app = make_app(SERVER_BASE_URL=BASE, STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    with app.app_context():
        yield app


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pdf_urls(data: bytes) -> list[str]:
    """The addresses a PDF prints and those its QR codes hold."""
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    found = []
    for page in document:
        found += URL.findall(page.get_textpage().get_text_range())
        found += decode_image(page.render(scale=2).to_pil())
    return found


def urls_of(message) -> dict[str, list[str]]:
    """Every absolute address of a sent mail: text, HTML, each QR image, each PDF."""
    parsed = email.message_from_bytes(message.message().as_bytes())
    found: dict[str, list[str]] = {"text": URL.findall(message.body)}
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind == "text/html":
            found["html"] = URL.findall(part.get_payload(decode=True).decode())
        elif kind == "image/png":
            found[f"qr {part.get_filename()}"] = decode_png(part.get_payload(decode=True))
        elif kind == "application/pdf":
            found[f"pdf {part.get_filename()}"] = pdf_urls(part.get_payload(decode=True))
    return found


def assert_all_at_base(found: dict[str, list[str]]) -> None:
    for where, urls in found.items():
        assert urls, f"no address in the {where}"
        wrong = [url for url in urls if not url.startswith(f"{BASE}/")]
        assert not wrong, f"{where}: {wrong}"


def test_a_guest_orders_emails_qr_codes_and_pdfs_all_point_at_the_public_address(client, app):
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    shop = make_shop("Ressourcerie du Canal")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1500, stock=3)
    db.session.commit()

    client.post("/cart/add", data={"product_id": lamp.id, "quantity": 1})
    client.post("/cards/buy", data={"amount": "3000", "for_whom": "gift", "recipient_name": "Léa",
                                    "recipient_email": "lea@example.org"})
    response = client.post("/checkout", data={
        "name": "Ada Lovelace", "email": "ada@example.org", "accept_terms": "y",
        f"slot-{shop.organization.id}": shop.slot.id})
    # The payment page and the addresses it sends the shopper back to.
    assert response.location.startswith(f"{BASE}/payments/demo/")
    page = client.get(path_of(response.location)).get_data(as_text=True)
    pay = re.search(r'action="(/payments/demo/[^"]+/pay)"', page).group(1)
    response = client.post(pay)
    assert response.location.startswith(f"{BASE}/checkout/success")
    assert client.get(path_of(response.location)).status_code == 200
    order = db.session.scalar(sa.select(Order))
    assert order.status == OrderStatus.PAID

    (confirmation,) = [m for m in mailman.outbox if m.to == ["ada@example.org"]]
    (gift,) = [m for m in mailman.outbox if m.to == ["lea@example.org"]]
    confirmation_urls = urls_of(confirmation)
    code = db.session.scalar(sa.select(Voucher.code))
    assert set(confirmation_urls) == {"text", "html", f"qr voucher-{code}.png"}
    assert_all_at_base(confirmation_urls)
    gift_urls = urls_of(gift)
    assert {"text", "html", "qr gift-card-qr.png"} < set(gift_urls)
    assert any(where.startswith("pdf ") for where in gift_urls)
    assert_all_at_base(gift_urls)

    # What they point at opens: the voucher (and its PDF, whose QR is the same address), the
    # order, the card.
    voucher = db.session.scalar(sa.select(Voucher))
    voucher_url = f"{BASE}/v/{voucher.token}"
    assert voucher_url in confirmation_urls["text"]
    assert voucher.display_code in client.get(path_of(voucher_url)).get_data(as_text=True)
    pdf = client.get(path_of(voucher_url) + "/voucher.pdf")
    assert pdf.status_code == 200
    assert voucher_url in pdf_urls(pdf.data)
    (order_url,) = [url for url in confirmation_urls["text"] if "/orders/" in url]
    assert order.reference in client.get(path_of(order_url)).get_data(as_text=True)
    card = db.session.scalar(sa.select(GiftCard))
    assert f"{BASE}/cards/{card.code}" in gift_urls["qr gift-card-qr.png"]


def test_account_emails_point_at_the_public_address(client, app):
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    client.post("/register", data={"name": "Sacha Leroy", "email": "sacha@example.org",
                                   "password": "a long passphrase", "confirm": "a long passphrase"})
    (message,) = mailman.outbox
    assert_all_at_base(urls_of(message))
    client.post("/register", data={"name": "Sacha Leroy", "email": "sacha@example.org",
                                   "password": "a long passphrase", "confirm": "a long passphrase"})
    assert_all_at_base(urls_of(mailman.outbox[-1]))  # "you already have an account"


def test_the_api_and_the_canonical_link_give_the_public_address(client, app):
    shop = make_shop()
    product = make_product(shop.organization, title="Lampe de bureau", price_cents=1500, stock=3)
    db.session.commit()
    body = client.get("/api/v1/products").get_data(as_text=True)
    urls = URL.findall(body)
    assert urls and all(url.startswith(f"{BASE}/") for url in urls), urls
    page = client.get(f"/products/{product.id}", follow_redirects=True).get_data(as_text=True)
    assert re.search(rf'<link rel="canonical" href="{re.escape(BASE)}/products/{product.id}', page)


def test_no_code_builds_an_absolute_address_another_way():
    """url_for(_external=True) would take the request's host: one function builds them all."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("marketplace", "templates")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".html", ".txt"} and path != ROOT / "marketplace" / "urls.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "_external" in line or "public_url" in line or "url_root" in line
        or "host_url" in line
    ]
    assert offenders == []


@pytest.mark.parametrize(("base", "warned"), [
    (None, True), ("http://marche.example.org", True), ("https://marche.example.org", False)])
def test_production_warns_when_links_would_not_be_at_a_public_https_address(
        monkeypatch, caplog, base, warned):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.delenv("SERVER_BASE_URL", raising=False)
    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if base:
        settings["SERVER_BASE_URL"] = base
    with caplog.at_level(logging.WARNING):
        create_app("production", overrides=settings)
    assert any("SERVER_BASE_URL" in r.getMessage() for r in caplog.records) == warned
