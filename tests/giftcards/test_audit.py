"""Every move of a card's money is in the audit log: who, where, how much, the balance after; in
the same transaction as the move (rolled back with it), and never with the card's full code."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db, utcnow
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from tests import factories
from tests.factories import make_product
from tests.giftcards.helpers import make_card, make_seller_with_counter
from tests.payments.fake_stripe import FakeStripe, stripe_settings
from tests.vouchers.helpers import make_shop


def entries(action_prefix="giftcard."):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
                              .order_by(AuditEntry.id)).all()


def assert_no_full_code(card):
    for entry in db.session.scalars(sa.select(AuditEntry)):
        assert card.code not in repr(entry.data) and card.display_code not in repr(entry.data)


def test_issue_and_counter_debit_are_recorded_with_the_clerk_the_shop_and_the_last_4(app):
    seller, counter, _ = make_seller_with_counter("La Trouvaille")
    card = make_card(5000)

    cards.redeem(card.id, 1250, organization=seller, by=counter, nonce="till-1")
    db.session.commit()
    cards.redeem(card.id, 1250, organization=seller, by=counter, nonce="till-1")  # a retry
    db.session.commit()

    issued, redeemed = entries()
    assert (issued.action, issued.subject_type, issued.subject_id) == ("giftcard.issued", "GiftCard", card.id)
    assert issued.data == {"amount_cents": 5000, "last4": card.code[-4:]}
    assert (redeemed.action, redeemed.subject_id) == ("giftcard.redeemed", card.id)
    assert redeemed.actor_id == counter.id and redeemed.organization_id == seller.id
    assert redeemed.data == {"amount_cents": 1250, "balance_after_cents": 3750,
                             "last4": card.code[-4:]}
    assert_no_full_code(card)


def test_a_counter_debit_rolled_back_leaves_no_audit_line(app):
    seller, counter, _ = make_seller_with_counter()
    card = make_card(5000)

    cards.redeem(card.id, 700, organization=seller, by=counter, nonce="n-rolled-back")
    db.session.rollback()

    assert [e.action for e in entries()] == ["giftcard.issued"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardTransaction)) == 1
    assert db.session.get(GiftCard, card.id).balance_cents == 5000


def test_adjust_block_unblock_and_expiry_are_recorded(app):
    admin = factories.make_user(name="Sam Admin", is_admin=True, email="sam-audit@example.org")
    card = make_card(3000)

    cards.adjust(card.id, -500, reason="Erreur de caisse", by=admin)
    cards.block(card.id, reason="Perdue", by=admin)
    cards.unblock(card.id, by=admin)
    db.session.commit()
    card.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    cards.expire_due()

    _, adjusted, blocked, unblocked, expired = entries()
    assert adjusted.action == "giftcard.adjusted" and adjusted.actor_id == admin.id
    assert adjusted.data["delta_cents"] == -500 and adjusted.data["balance_after_cents"] == 2500
    assert adjusted.data["reason"] == "Erreur de caisse"
    assert (blocked.action, blocked.data["reason"]) == ("giftcard.blocked", "Perdue")
    assert unblocked.action == "giftcard.unblocked"
    assert expired.action == "giftcard.expired" and expired.actor_id is None
    assert expired.data["amount_cents"] == 2500 and expired.organization_id is None
    assert all(e.data["last4"] == card.code[-4:] for e in (adjusted, blocked, unblocked, expired))
    assert_no_full_code(card)


def test_expiry_given_to_the_association_names_it(make_app):
    app = make_app(GIFTCARD_EXPIRY_POLICY="donate", GIFTCARD_EXPIRY_ASSOCIATION="asso-expiry")
    with app.app_context():
        association = factories.make_organization(name="Les Amis du Vélo")
        association.slug = "asso-expiry"
        card = make_card(2000)
        card.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()

        cards.expire_due()

        expired = entries()[-1]
        assert expired.action == "giftcard.expired"
        assert expired.organization_id == association.id and expired.data["amount_cents"] == 2000


def test_a_donation_is_recorded_for_the_association(app):
    association = factories.make_organization(name="Secours Solidaire")
    holder = factories.make_user(name="Camille Durand", email="camille-don@example.org")
    card = make_card(2500)

    cards.donate(card.id, association, by=holder)
    db.session.commit()

    donated = entries()[-1]
    assert donated.action == "giftcard.donated" and donated.actor_id == holder.id
    assert donated.organization_id == association.id and donated.data["amount_cents"] == 2500


# --- online ---------------------------------------------------------------------------------

@pytest.fixture
def online(make_app):
    fake = FakeStripe()
    app = make_app(**stripe_settings(fake))
    with app.app_context():
        yield app, make_shop()


def test_paying_online_and_getting_the_money_back_are_recorded_with_the_order(online):
    app, shop = online
    client = app.test_client()
    lamp = make_product(shop.organization, price_cents=2500, stock=3)
    card = make_card(2000)
    client.post("/cart/add", data={"product_id": lamp.id, "quantity": 2})
    client.post("/checkout", data={
        "name": "Camille Martin", "email": "camille@example.org", "accept_terms": "y",
        f"slot-{shop.organization.id}": shop.slot.id, "gift_cards": card.code})
    order = db.session.scalar(sa.select(Order))

    assert orders.release(order, status=OrderStatus.EXPIRED)
    db.session.commit()

    _, paid, refunded = entries()
    assert paid.action == "giftcard.paid_order" and paid.subject_id == card.id
    assert paid.data == {"amount_cents": 2000, "balance_after_cents": 0,
                         "last4": card.code[-4:], "reference": order.reference}
    assert refunded.action == "giftcard.refunded"
    assert refunded.data == {"amount_cents": 2000, "balance_after_cents": 2000,
                             "last4": card.code[-4:], "reference": order.reference}
    assert_no_full_code(card)
