"""The audit log page: each entry a sentence in the reader's language, with links to what it
concerns; newest first, filtered by kind of action, organization and person, paginated."""
import html
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from marketplace import audit
from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.ledger import services as ledger
from marketplace.organizations.models import Membership, Role
from marketplace.payments.demo_gateway import DemoGateway
from tests import factories
from tests.factories import make_product
from tests.giftcards.helpers import make_card, make_seller_with_counter
from tests.vouchers.helpers import make_shop, paid_order

NBSP = "\u00a0"


def text(response) -> str:
    """What a reader sees: the page without its tags, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<(select)\b.*?</\1>", " ", body, flags=re.S)  # the filter's choices
    body = re.sub(r"</?(a|span|time|strong|em)\b[^>]*>", "", body)  # inline: no space added
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def sentence_links(response) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', response.get_data(as_text=True))


def admin(login, *, locale="en"):
    return login(factories.make_user(name="Sam Admin", is_admin=True, locale=locale,
                                     email=f"sam-{locale}@platform.example.org"))


def test_a_counter_debit_reads_as_a_sentence_in_french_with_links(client, login):
    seller, counter, _ = make_seller_with_counter("La Trouvaille")
    card = make_card(5000)
    cards.redeem(card.id, 1250, organization=seller, by=counter, nonce="n1")
    db.session.commit()
    admin(login, locale="fr")

    response = client.get("/admin/audit")

    page = text(response)
    assert f"Lucie Moreau a encaissé 12,50{NBSP}€ sur la carte •••• {card.code[-4:]} chez La Trouvaille" in page
    assert f"Carte cadeau •••• {card.code[-4:]} de 50,00{NBSP}€ émise" in page
    links = sentence_links(response)
    assert f"/admin/cards/{card.id}" in links
    assert f"/admin/organizations/{seller.id}" in links
    assert f"/admin/audit?actor={counter.id}" in links
    assert "giftcard." not in page and card.code not in response.get_data(as_text=True)


def test_the_same_entry_reads_in_english_for_an_english_reader(client, login):
    seller, counter, _ = make_seller_with_counter("La Trouvaille")
    card = make_card(5000)
    cards.redeem(card.id, 1250, organization=seller, by=counter, nonce="n1")
    db.session.commit()
    admin(login, locale="en")

    page = text(client.get("/admin/audit"))

    assert f"Lucie Moreau cashed €12.50 on card •••• {card.code[-4:]} at La Trouvaille" in page
    assert "Balance after: €37.50" in page


def test_no_developer_output_is_left(client, login):
    shop = make_shop("La Trouvaille")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1500, stock=5)
    order = paid_order([(lamp, 2)])
    audit.record("organization.updated", shop.organization, by=shop.manager,
                 data={"fields": ["name", "siret", "website"]})
    audit.record("voucher.collected", order.parts[0], by=shop.counter,
                 organization=shop.organization,
                 data={"reference": order.reference, "voucher": "ABCD-EFGH",
                       "lines": [{"title": "Lampe de bureau", "quantity": 2}], "complete": True})
    db.session.commit()
    admin(login)

    page = text(client.get("/admin/audit"))

    assert f"Camille Martin placed order {order.reference} (€30.00)" not in page  # a guest
    assert f"A shopper without an account placed order {order.reference} (€30.00)" in page
    assert f"Payment of €30.00 received for order {order.reference}" in page
    assert "At La Trouvaille, Karim Benali changed these details: name, SIRET, and website" in page
    assert (f"At La Trouvaille, Lucie Moreau handed over order {order.reference}: "
            "2 × Lampe de bureau") in page
    for leak in ("organization.", "OrderPart", "[{", "{'", "True", "None", "user_id", "_cents",
                 "ABCD-EFGH"):
        assert leak not in page, leak


def test_an_order_links_to_its_admin_page(client, login):
    shop = make_shop("La Trouvaille")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1500, stock=5)
    order = paid_order([(lamp, 1)])
    admin(login)

    log = client.get("/admin/audit")
    assert f"/admin/orders/{order.reference}" in sentence_links(log)
    response = client.get(f"/admin/orders/{order.reference}")

    assert response.status_code == 200
    page = text(response)
    assert order.reference in page and "Camille Martin" in page and "shopper@example.org" in page
    assert "La Trouvaille" in page and "Lampe de bureau" in page and "€15.00" in page
    assert f"Payment of €15.00 received for order {order.reference}" in page  # its history
    assert client.get("/admin/orders/NOPE-0000").status_code == 404


def test_payouts_are_in_the_log(client, login, app):
    seller, _, _ = make_seller_with_counter("La Trouvaille")
    card = make_card(5000)
    cards.redeem(card.id, 4000, organization=seller, nonce="n1")
    seller.stripe_account_id = DemoGateway().create_connected_account(
        email="tresorerie@example.org", name=seller.name, idempotency_key="connect-test")
    seller.payouts_enabled = True
    db.session.commit()
    ledger.run_payouts(gateway=DemoGateway())
    admin(login)

    page = text(client.get("/admin/audit?action=payout"))

    assert "Payout of €38.00 started for La Trouvaille" in page
    assert "€38.00 paid out to La Trouvaille" in page
    assert "cashed" not in page  # the filter keeps only payouts


def test_times_are_shown_in_the_readers_timezone(client, login, make_organization):
    org = make_organization(name="Recyclerie du Rhône")
    entry = audit.record("organization.approved", org, by=None)
    entry.created_at = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # 23:30 in Paris (summer)
    db.session.commit()
    admin(login, locale="fr")

    page = text(client.get("/admin/audit"))

    assert "1er\u00a0juil. 2026 à 23\u202fh\u202f30" in page
    assert "21\u202fh\u202f30" not in page and "21:30" not in page


def test_audit_log_lists_entries_newest_first_with_actor_and_reason(
    client, make_user, make_organization, login
):
    sam = admin(login)
    actor = make_user(name="Alix Durand")
    org = make_organization(name="Recyclerie du Rhône")
    audit.record("organization.applied", org, by=actor)
    audit.record("organization.rejected", org, by=sam, data={"reason": "SIRET inconnu"})
    db.session.commit()

    page = text(client.get("/admin/audit"))

    rejected = "Sam Admin rejected the application of Recyclerie du Rhône"
    applied = "Alix Durand applied to join the marketplace with Recyclerie du Rhône"
    assert page.index(rejected) < page.index(applied)
    assert "Reason: SIRET inconnu" in page


def test_audit_log_filters_by_kind_of_action_organization_and_person(
    client, make_user, make_organization, login
):
    sam = admin(login)
    first = make_organization(name="Première")
    second = make_organization(name="Seconde")
    member = factories.make_user(name="Nour Haddad", email="nour@example.org")
    membership = Membership(organization=first, user=member, role=Role.MANAGER)
    db.session.add(membership)
    audit.record("organization.approved", first, by=sam)
    audit.record("member.role_changed", membership, by=sam,
                 data={"email": "nour@example.org", "old_role": "counter", "new_role": "manager"})
    audit.record("organization.approved", second, by=make_user(name="Other Admin"))
    db.session.commit()

    page = text(client.get("/admin/audit?action=member."))
    assert "nour@example.org" in page and "approved" not in page

    page = text(client.get(f"/admin/audit?organization={first.id}"))
    assert "Sam Admin approved Première" in page and "Seconde" not in page

    page = text(client.get(f"/admin/audit?actor={sam.id}"))
    assert "Sam Admin approved Première" in page and "Other Admin" not in page

    choices = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="giftcard.redeemed">' in choices  # every kind can be chosen
    assert "Card cashed at a counter" in choices


def test_audit_log_is_paginated(client, make_user, make_organization, login):
    sam = admin(login)
    org = make_organization()
    for n in range(55):
        audit.record("product.created", org, by=sam, organization=org,
                     data={"title": f"entry-{n:02d}", "price_cents": 100, "stock": 1})
    db.session.commit()

    first_page = text(client.get("/admin/audit"))
    second_page = text(client.get("/admin/audit?page=2"))

    assert "entry-54" in first_page and "entry-04" not in first_page
    assert "entry-04" in second_page and "entry-54" not in second_page
    assert "Page 1 of 2" in first_page


def test_bad_filters_are_ignored_not_a_500(client, login):
    admin(login)
    for query in ("?page=abc", "?organization=x", "?actor=-1", "?action=" + "x" * 500):
        assert client.get("/admin/audit" + query).status_code == 200


def test_the_organization_page_tells_its_history_in_sentences(client, login, make_organization):
    sam = admin(login)
    org = make_organization(name="Recyclerie du Rhône")
    audit.record("organization.approved", org, by=sam)
    db.session.commit()

    page = text(client.get(f"/admin/organizations/{org.id}"))

    assert "Sam Admin approved Recyclerie du Rhône" in page
    assert db.session.scalar(sa.select(AuditEntry.action)) == "organization.approved"
