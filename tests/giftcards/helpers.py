"""Cards, sellers and associations for the gift card tests."""
from __future__ import annotations

import re

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.organizations.models import Membership, Role
from tests import factories


def make_card(amount_cents: int = 5000, **kwargs):
    card = cards.issue(amount_cents, buyer_email="buyer@example.org", **kwargs)
    db.session.commit()
    return card


def make_seller_with_counter(name="Épicerie Solidaire"):
    organization = factories.make_organization(name=name)
    n = organization.id
    counter = factories.make_user(email=f"counter-card{n}@example.org", name="Lucie Moreau", locale="en")
    manager = factories.make_user(email=f"manager-card{n}@example.org", name="Karim Benali", locale="en")
    db.session.add(Membership(organization=organization, user=counter, role=Role.COUNTER))
    db.session.add(Membership(organization=organization, user=manager, role=Role.MANAGER))
    db.session.commit()
    return organization, counter, manager


def field_value(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def find_at_counter(client, organization, text: str):
    """The clerk scans the card or types its code: the page with the card and its payment form."""
    return client.post(f"/orgs/{organization.id}/counter/cards", data={"q": text})


def pay_at_counter(client, organization, page_html: str, amount: str, **extra):
    """The payment form of a counter page, sent with this amount."""
    data = {"ticket": field_value(page_html, "ticket"), "nonce": field_value(page_html, "nonce"),
            "amount": amount, **extra}
    return client.post(f"/orgs/{organization.id}/counter/cards/pay", data=data)
