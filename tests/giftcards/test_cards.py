"""The card's public page, the balance check throttled on wrong codes, donation, expiry, the
holder's list, and the platform team's block and adjustment."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db, utcnow
from marketplace.giftcards import codes
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard, TransactionKind
from marketplace.ledger import services as ledger
from tests import factories
from tests.giftcards.helpers import make_card
from tests.vouchers.helpers import decode_png


def reload(card):
    db.session.expire_all()
    return db.session.get(GiftCard, card.id)


def test_a_card_is_valid_twelve_months_and_never_less(app, make_app):
    card = make_card(5000)
    assert card.balance_cents == 5000 and codes.is_valid(card.code)
    days = (card.expires_at - utcnow()).days
    assert 364 <= days <= 366
    with pytest.raises(RuntimeError, match="at least a year"):
        make_app(GIFTCARD_VALIDITY_MONTHS=6)


@pytest.mark.parametrize("amount", [999, 15001, 0, -100])
def test_amounts_outside_10_to_150_euros_are_refused(app, amount):
    with pytest.raises(cards.CardError):
        cards.issue(amount)


def test_the_card_page_shows_balance_expiry_history_and_a_qr_to_itself(client, app):
    card = make_card(5000)
    seller = factories.make_organization(name="Épicerie Solidaire")
    cards.redeem(card.id, 2000, organization=seller)
    db.session.commit()
    html = client.get(f"/cards/{card.code}").get_data(as_text=True)
    assert "€30.00" in html and "€50.00" in html and "Épicerie Solidaire" in html
    assert card.display_code in html
    qr = client.get(f"/cards/{card.code}/qr.png")
    assert decode_png(qr.data) == [f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"]
    # Typed with dashes and lower case: the canonical page.
    assert client.get(f"/cards/{card.display_code.lower()}").status_code in (200, 301)


def test_the_balance_check_form_finds_the_card(client, app):
    card = make_card(5000)
    response = client.post("/cards", data={"code": card.display_code.lower().replace("-", " ")})
    assert response.status_code == 303 and response.location.endswith(f"/cards/{card.code}")


def test_a_mistyped_character_is_caught_before_the_database(client, app):
    card = make_card(5000)
    wrong = ("2" if card.code[0] != "2" else "3") + card.code[1:]
    response = client.post("/cards", data={"code": wrong})
    assert response.status_code == 404 and "check each character" in response.get_data(as_text=True)


def test_wrong_codes_are_limited_per_client_but_right_ones_are_not(make_app):
    app = make_app(RATELIMIT_ENABLED=True, GIFTCARD_LOOKUP_LIMIT="3 per hour")
    with app.app_context():
        client = app.test_client()
        card = make_card(5000)
        for _ in range(3):
            assert client.post("/cards", data={"code": codes.new_code()}).status_code == 404
        assert client.post("/cards", data={"code": codes.new_code()}).status_code == 429
        assert client.get(f"/cards/{codes.new_code()}").status_code == 429
        other = app.test_client()  # another client (address) is not blocked
        other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
        for _ in range(5):  # and right codes never use up the budget
            assert other.get(f"/cards/{card.code}").status_code == 200
        assert other.post("/cards", data={"code": codes.new_code()}).status_code == 404


def test_after_ten_wrong_codes_from_one_address_a_right_code_is_still_accepted(make_app):
    """A shop's Wi-Fi or a mobile network puts many people behind one address: someone's
    mistakes must not lock everyone else out of their own cards."""
    app = make_app(RATELIMIT_ENABLED=True)  # the default: 10 wrong codes per hour
    with app.app_context():
        card = make_card(5000)
        client = app.test_client()
        for _ in range(10):
            assert client.post("/cards", data={"code": codes.new_code()}).status_code == 404
        refused = client.post("/cards", data={"code": codes.new_code()})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 429
        assert "Too many wrong codes from your connection" in page
        assert "A right code is still accepted." in page
        assert client.get(f"/cards/{codes.new_code()}").status_code == 429
        # Someone else on the same Wi-Fi, with a real card: the form, the QR's page, its files.
        found = client.post("/cards", data={"code": card.display_code.lower()})
        assert found.status_code == 303 and found.location.endswith(f"/cards/{card.code}")
        assert client.get(f"/cards/{card.code}").status_code == 200
        assert client.get(f"/cards/{card.code}/qr.png").status_code == 200
        assert client.get(f"/cards/{card.code}/card.pdf").status_code == 200
        # and wrong codes are still refused, on every card address.
        for url in ("/qr.png", "/card.pdf", ""):
            assert client.get(f"/cards/{codes.new_code()}{url}").status_code == 429
        assert client.post("/cards", data={"code": codes.new_code()}).status_code == 429


def test_every_lookup_counts_against_a_higher_cap_per_address(make_app):
    """Guessing codes stays hopeless (15 random characters of 28) and slow: right or wrong,
    GIFTCARD_LOOKUP_HARD_LIMIT lookups per address, then every lookup waits."""
    app = make_app(RATELIMIT_ENABLED=True, GIFTCARD_LOOKUP_HARD_LIMIT="6 per hour")
    with app.app_context():
        card = make_card(5000)
        client = app.test_client()
        assert client.post("/cards", data={"code": codes.new_code()}).status_code == 404
        for _ in range(5):
            assert client.get(f"/cards/{card.code}").status_code == 200
        capped = client.get(f"/cards/{card.code}")
        assert capped.status_code == 429 and "Too many gift card lookups" in capped.get_data(as_text=True)
        assert client.post("/cards", data={"code": card.code}).status_code == 429
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
        assert other.get(f"/cards/{card.code}").status_code == 200


def confirmation_of(html: str) -> str:
    return re.search(r'name="confirmation" value="([^"]+)"', html).group(1)


def give(client, card, association, *, amount=None, code=None, nonce="gift-1"):
    """The card page's "give to an association" form, then its confirmation step."""
    data = {"association": association.id, "nonce": nonce}
    if amount is not None:
        data["amount"] = amount
    if code is not None:
        data["code"] = code
    return client.post(f"/cards/{card.code}/donate", data=data)


def confirm(client, card, page):
    return client.post(f"/cards/{card.code}/donate/confirm",
                       data={"confirmation": confirmation_of(page.get_data(as_text=True))})


@pytest.fixture
def association(app):
    association = factories.make_organization(name="Les Restos du Quartier")
    db.session.commit()
    return association


def test_donating_the_rest_credits_the_association(client, app, association):
    card = make_card(5000)
    page = give(client, card, association, code=card.display_code)
    assert page.status_code == 200 and reload(card).balance_cents == 5000  # not yet
    response = confirm(client, card, page)
    assert response.status_code == 303
    card = reload(card)
    assert card.balance_cents == 0
    assert card.transactions[-1].kind == TransactionKind.DONATE
    assert ledger.balance(association.id) == 5000
    again = give(client, card, association, code=card.code, nonce="gift-2")
    assert again.status_code == 409 and "nothing left" in again.get_data(as_text=True)
    assert ledger.balance(association.id) == 5000


def test_giving_asks_for_the_code_again_and_a_confirmation_and_may_give_part(
        client, app, association):
    """Whoever has the card's page open cannot give its money away in one click: the code
    printed on the card is asked again, a confirmation says what goes where, and the holder
    may give part of the balance ("tout ou partie")."""
    card = make_card(5000)
    for code, message in ((None, "code, as printed on the card"),
                          (codes.new_code(), "This is not the code of this card")):
        refused = give(client, card, association, amount="20", code=code)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert reload(card).balance_cents == 5000 and ledger.balance(association.id) == 0

    page = give(client, card, association, amount="20,00", code=card.display_code.lower())
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Give €20.00 to Les Restos du Quartier?" in html
    assert "€30.00 will be left on the card." in html
    assert reload(card).balance_cents == 5000  # nothing moves before the confirmation

    done = confirm(client, card, page)
    assert done.status_code == 303
    shown = client.get(done.location).get_data(as_text=True)
    assert "Thank you: €20.00 given to Les Restos du Quartier." in shown
    card = reload(card)
    assert card.balance_cents == 3000 and cards.ledger_sum(card.id) == 3000
    assert card.transactions[-1].kind == TransactionKind.DONATE
    assert card.transactions[-1].amount_cents == -2000
    assert ledger.balance(association.id) == 2000
    confirm(client, card, page)  # the same confirmation sent again: given once
    assert reload(card).balance_cents == 3000 and ledger.balance(association.id) == 2000


@pytest.mark.parametrize("amount, status, message", [
    ("60", 409, "Only €50.00 left"), ("0", 400, "above zero"), ("abc", 400, "Type an amount"),
    ("-5", 400, "Type an amount")])
def test_a_gift_larger_than_the_balance_or_not_an_amount_is_refused(
        client, app, association, amount, status, message):
    card = make_card(5000)
    response = give(client, card, association, amount=amount, code=card.code)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000


def test_the_holder_signed_in_gives_without_typing_the_code(client, login, app, association):
    card = make_card(5000)
    holder = factories.make_user(email="holder-gift@example.org", locale="en")
    db.session.commit()
    login(holder)
    client.post(f"/cards/{card.code}/claim")
    assert 'name="code"' not in client.get(f"/cards/{card.code}").get_data(as_text=True)
    page = give(client, card, association, amount="15")
    assert page.status_code == 200
    assert confirm(client, card, page).status_code == 303
    assert reload(card).balance_cents == 3500
    # Someone else signed in is asked for the code.
    login(factories.make_user(email="someone@example.org", locale="en"))
    assert give(client, card, association, amount="5", nonce="n2").status_code == 400


def test_a_confirmation_is_for_its_card_and_cannot_be_forged(client, app, association):
    card, other = make_card(5000), make_card(3000)
    page = give(client, card, association, amount="10", code=card.code)
    token = confirmation_of(page.get_data(as_text=True))
    for target, value in ((other, token), (card, "forged"), (card, token + "x"), (card, "")):
        response = client.post(f"/cards/{target.code}/donate/confirm", data={"confirmation": value})
        assert response.status_code == 400
        assert "Fill in the form again" in response.get_data(as_text=True)
    assert reload(card).balance_cents == 5000 and reload(other).balance_cents == 3000


def test_a_works_council_is_not_a_participating_association(client, app):
    from marketplace.organizations.models import OrganizationKind

    card = make_card(5000)
    cse = factories.make_organization(name="CSE Textile", kind=OrganizationKind.WORKS_COUNCIL)
    db.session.commit()
    response = give(client, card, cse, code=card.code)
    assert response.status_code == 400
    assert reload(card).balance_cents == 5000


@pytest.mark.parametrize("policy", ["keep", "donate"])
def test_what_is_left_at_expiry_follows_the_platform_setting(make_app, policy):
    app = make_app(GIFTCARD_EXPIRY_POLICY=policy, GIFTCARD_EXPIRY_ASSOCIATION="restos")
    with app.app_context():
        association = factories.make_organization(name="Les Restos du Quartier")
        association.slug = "restos"
        card = make_card(3000)
        assert cards.expire_due(now=utcnow() + timedelta(days=30)) == 0
        assert cards.expire_due(now=utcnow() + timedelta(days=400)) == 1
        card = reload(card)
        assert card.balance_cents == 0
        kind = card.transactions[-1].kind
        if policy == "keep":
            assert kind == TransactionKind.EXPIRE and ledger.balance(association.id) == 0
        else:
            assert kind == TransactionKind.DONATE and ledger.balance(association.id) == 3000
        assert cards.expire_due(now=utcnow() + timedelta(days=400)) == 0


def test_a_signed_in_holder_keeps_the_card_in_the_account(client, login, app):
    card = make_card(5000)
    user = factories.make_user(email="holder@example.org", locale="en")
    db.session.commit()
    login(user)
    client.post(f"/cards/{card.code}/claim")
    assert card.display_code in client.get("/account/cards").get_data(as_text=True)
    other = factories.make_user(email="other@example.org", locale="en")
    db.session.commit()
    login(other)
    response = client.post(f"/cards/{card.code}/claim", follow_redirects=True)
    assert "already kept in another account" in response.get_data(as_text=True)


def test_admins_find_block_and_adjust_with_a_reason(client, login, app):
    card = make_card(5000, recipient_email="lea@example.org", recipient_name="Léa")
    admin = factories.make_user(email="admin@example.org", is_admin=True)
    db.session.commit()
    login(admin)
    found = client.get("/admin/cards", query_string={"q": "LEA@example.org"}).get_data(as_text=True)
    assert card.display_code in found
    assert card.display_code in client.get("/admin/cards", query_string={"q": card.display_code}).get_data(as_text=True)

    client.post(f"/admin/cards/{card.id}/block", data={"reason": ""})
    assert reload(card).status.value == "active"  # a reason is required
    client.post(f"/admin/cards/{card.id}/block", data={"reason": "Lost on the bus"})
    assert reload(card).status.value == "blocked"
    seller = factories.make_organization(name="Épicerie Solidaire")
    db.session.commit()
    with pytest.raises(cards.CardError, match="blocked"):
        cards.redeem(card.id, 100, organization=seller)
    db.session.rollback()

    client.post(f"/admin/cards/{card.id}/adjust", data={"amount": "-5,00", "reason": "Goodwill"})
    client.post(f"/admin/cards/{card.id}/adjust", data={"amount": "abc", "reason": "x"})
    client.post(f"/admin/cards/{card.id}/adjust", data={"amount": "-100,00", "reason": "x"})
    card = reload(card)
    assert card.balance_cents == 4500 and cards.ledger_sum(card.id) == 4500
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"giftcard.blocked", "giftcard.adjusted"} <= actions


def test_the_admin_pages_are_for_admins_only(client, login, app):
    card = make_card(5000)
    login(factories.make_user(email="nobody@example.org"))
    assert client.get("/admin/cards").status_code == 403
    assert client.post(f"/admin/cards/{card.id}/adjust", data={"amount": "5", "reason": "x"}).status_code == 403
    assert reload(card).balance_cents == 5000


def test_the_pdf_shows_amount_balance_expiry_and_a_qr_that_decodes(client, app):
    import io

    import pypdfium2

    from tests.vouchers.helpers import decode_image

    card = make_card(5000, recipient_name="Léa")
    data = client.get(f"/cards/{card.code}/card.pdf").data
    page = pypdfium2.PdfDocument(io.BytesIO(data))[0]
    text = page.get_textpage().get_text_range()
    assert "€50.00" in text and card.display_code in text and "Léa" in text
    assert decode_image(page.render(scale=3).to_pil()) == [
        f"{app.config['SERVER_BASE_URL']}/cards/{card.code}"]


def test_an_error_on_a_card_page_is_logged_without_the_code(make_app, caplog, monkeypatch):
    app = make_app(PROPAGATE_TEST_ERRORS=False)
    with app.app_context():
        card = make_card(5000)

        def broken(card_id):
            raise RuntimeError("the history is unreadable")

        monkeypatch.setattr(cards, "history", broken)
        with caplog.at_level("ERROR"):
            response = app.test_client().get(f"/cards/{card.code}")
        assert response.status_code == 500
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "Unhandled error on GET /cards/" in logged
        assert card.code not in logged and card.code[-4:] in logged
