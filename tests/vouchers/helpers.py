"""Paid orders with vouchers, counter staff, and reading the QR codes we print (zxing-cpp)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from marketplace.db import db
from marketplace.organizations.models import Membership, Role
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.vouchers.models import Voucher
from tests import factories
from tests.payments.helpers import make_seller, place_order


@dataclass
class Shop:
    organization: object
    slot: object
    counter: object  # a counter volunteer
    manager: object


def make_shop(name: str = "Ressourcerie du Canal", *, capacity: int = 10) -> Shop:
    seller = make_seller(name, capacity=capacity)
    n = seller.organization.id
    counter = factories.make_user(email=f"counter{n}@example.org", name="Lucie Moreau", locale="en")
    manager = factories.make_user(email=f"manager{n}@example.org", name="Karim Benali", locale="en")
    db.session.add(Membership(organization=seller.organization, user=counter, role=Role.COUNTER))
    db.session.add(Membership(organization=seller.organization, user=manager, role=Role.MANAGER))
    db.session.commit()
    return Shop(seller.organization, seller.slot, counter, manager)


def paid_order(items, *, email="shopper@example.org", locale="en"):
    """Checkout, then "Pay" on the demo gateway's page, through the real fulfilment."""
    order = place_order(items, email=email, locale=locale)
    session = payments.start_payment(order)
    db.session.commit()
    DemoGateway().complete(session.id)
    db.session.commit()
    payments.fulfil_checkout_session(session.id)
    db.session.commit()
    return order


def voucher_of(part) -> Voucher:
    return db.session.scalar(sa.select(Voucher).where(Voucher.order_part_id == part.id))


def decode_png(data: bytes) -> list[str]:
    return decode_image(Image.open(io.BytesIO(data)))


def decode_image(image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode)]


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def ticket_of(html: str) -> str:
    """What the counter page's "Collected" form carries for the voucher it shows."""
    return re.search(r'name="ticket" value="([^"]+)"', html).group(1)
