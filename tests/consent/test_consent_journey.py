"""End to end: a shopper agrees at checkout to hear from a seller; the seller sees and exports
its list, writes a message that leaves in batches through the job queue; the customers
unsubscribe with the link (the page's button, or their mail client's one-click POST) and get
nothing more."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace.consent import messages
from marketplace.consent.models import MarketingConsent, SellerMessage, SellerMessageRecipient
from marketplace.db import db, utcnow
from marketplace.organizations.models import Membership, Role
from tests import factories
from tests.orders.shopper import add_to_cart, checkout, last_order, text

pytestmark = pytest.mark.english

WORDING = ("I agree to receive news and offers by email from the seller “Ressourcerie du Canal”. "
           "My address is used only by this seller for this purpose and never passed on; "
           "I can withdraw at any time from my account or with the link in each email.")


def buy(client, market, *, email, name="Ada Lovelace", consent_to=()):
    add_to_cart(client, market.lamp, 1)
    add_to_cart(client, market.bowl, 1)
    data = {f"consent-{org.id}": "y" for org in consent_to}
    response = checkout(client, {market.canal: market.canal_slots[0],
                                 market.loire: market.loire_slots[0]},
                        name=name, email=email, **data)
    assert response.status_code == 303, text(response)
    return last_order()


def consents(organization=None):
    db.session.expire_all()
    query = sa.select(MarketingConsent).order_by(MarketingConsent.id)
    if organization is not None:
        query = query.where(MarketingConsent.organization_id == organization.id)
    return list(db.session.scalars(query))


def manager_of(organization):
    user = factories.make_user(email=f"manager{organization.id}@example.org", locale="en")
    db.session.add(Membership(organization=organization, user=user, role=Role.MANAGER))
    db.session.commit()
    return user


def stop_link(mail) -> str:
    (link,) = re.findall(r"https?://\S+/unsubscribe/\S+", mail.body)
    return urlsplit(link).path


def test_the_checkout_offers_one_unticked_box_per_seller(client, market):
    add_to_cart(client, market.lamp, 1)
    add_to_cart(client, market.bowl, 1)
    page = text(client.get("/checkout"))
    for org in (market.canal, market.loire):
        assert (f'<input type="checkbox" id="consent-{org.id}" name="consent-{org.id}" value="y">'
                in page)
    assert WORDING in page
    assert "News from the sellers (optional)" in page


def test_a_form_refused_keeps_the_boxes_ticked_and_records_nothing(client, market):
    add_to_cart(client, market.lamp, 1)
    response = client.post("/checkout", data={"name": "Ada", "email": "ada@example.org",
                                              f"consent-{market.canal.id}": "y"})
    assert response.status_code == 400
    assert f'name="consent-{market.canal.id}" value="y" checked>' in text(response)
    assert consents() == []


def test_consent_list_csv_message_in_batches_unsubscribe_and_nothing_more(
        app, client, login, market, fake_payments, outbox, monkeypatch):
    order = buy(client, market, email="ada@example.org", consent_to=[market.canal])
    buy(client, market, email="Bob@Example.org", name="Bob", consent_to=[market.canal])
    buy(client, market, email="carol@example.org", name="Carol",
        consent_to=[market.canal, market.loire])
    buy(client, market, email="dan@example.org", name="Dan")  # agrees to nothing
    # The same address agreeing again keeps its first consent.
    buy(client, market, email="ada@example.org", consent_to=[market.canal])

    canal = consents(market.canal)
    assert [c.email for c in canal] == ["ada@example.org", "bob@example.org", "carol@example.org"]
    ada = canal[0]
    assert (ada.wording, ada.locale, ada.method, ada.order_reference, ada.name) == (
        WORDING, "en", "checkout", order.reference, "Ada Lovelace")
    assert ada.given_at is not None and ada.withdrawn_at is None
    assert [c.email for c in consents(market.loire)] == ["carol@example.org"]

    # The seller's list, and its CSV for a French Excel.
    login(manager_of(market.canal))
    page = text(client.get(f"/orgs/{market.canal.id}/customers"))
    assert "3 customers" in page and "bob@example.org" in page and "dan@" not in page
    response = client.get(f"/orgs/{market.canal.id}/customers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    csv = response.get_data(as_text=True)
    assert csv.startswith("\ufeffName;Email;Agreed on;Language;How;Order;Sentence agreed to\r\n")
    assert "Ada Lovelace;ada@example.org;" in csv and f";en;at checkout;{order.reference};" in csv
    assert len(csv.strip().split("\r\n")) == 4
    # Another seller's list is not theirs.
    assert client.get(f"/orgs/{market.loire.id}/customers").status_code == 404

    # Write, preview, confirm: the message leaves in batches of 2 through the job queue.
    app.config["SELLER_MESSAGE_BATCH"] = 2
    from marketplace.consent import tasks

    batches = []
    real_delay = tasks.send_batch.delay
    monkeypatch.setattr(tasks.send_batch, "delay",
                        lambda ids: (batches.append(list(ids)), real_delay(ids))[1])
    url = f"/orgs/{market.canal.id}/customers/message"
    draft = {"subject": "Open day on Saturday", "body": "Come and see our new lamps!\nSee you."}
    response = client.post(url, data=draft)
    assert response.status_code == 200
    assert "Preview" in text(response) and "Come and see our new lamps!" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(SellerMessage.id))) == 0 and outbox == []
    response = client.post(url, data={**draft, "confirm": "1"})
    assert response.status_code == 303
    assert [len(batch) for batch in batches] == [2, 1]
    assert sorted(mail.to[0] for mail in outbox) == [
        "ada@example.org", "bob@example.org", "carol@example.org"]
    mail = next(m for m in outbox if m.to == ["ada@example.org"])
    assert mail.subject == "Ressourcerie du Canal: Open day on Saturday"
    assert "Come and see our new lamps!\nSee you." in mail.body
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = stop_link(mail)
    assert mail.extra_headers["List-Unsubscribe"].endswith(link + ">")
    assert db.session.scalar(sa.select(sa.func.count(SellerMessageRecipient.sent_at))) == 3
    assert "3 of 3" in text(client.get(f"/orgs/{market.canal.id}/customers"))
    from marketplace.audit.models import AuditEntry

    (entry,) = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "customers.message_sent")).all()
    assert entry.organization_id == market.canal.id
    assert entry.data == {"subject": "Open day on Saturday", "count": 3}

    # A second message so soon is refused: nothing is queued.
    first = list(outbox)
    outbox.clear()
    response = client.post(url, data={**draft, "confirm": "1"})
    assert response.status_code == 429 and "less than 7 days ago" in text(response)
    assert outbox == [] and db.session.scalar(sa.select(sa.func.count(SellerMessage.id))) == 1

    # Ada unsubscribes with the link (no login): the page has a button, the GET changes nothing.
    client.post("/logout")
    page = client.get(link)
    assert page.status_code == 200 and "Unsubscribe</button>" in text(page)
    assert consents(market.canal)[0].withdrawn_at is None
    response = client.post(link)  # the page's button (no CSRF token needed: the link is signed)
    assert response.status_code == 200 and "you are unsubscribed" in text(response)
    # Bob's mail client unsubscribes in one click (RFC 8058).
    bob_mail = next(m for m in first if m.to == ["bob@example.org"])
    response = client.post(stop_link(bob_mail), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    canal = consents(market.canal)
    assert [(c.email, c.withdrawn_how) for c in canal] == [
        ("ada@example.org", "link"), ("bob@example.org", "one-click"), ("carol@example.org", None)]
    # Carol still hears from the Loire workshop: unsubscribing is per seller.
    assert consents(market.loire)[0].withdrawn_at is None
    # A forged or altered token is a 404.
    assert client.get(link[:-2] + "xx").status_code == 404

    # A week later, the next message goes to Carol only.
    db.session.execute(sa.update(SellerMessage).values(created_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    login(db.session.scalar(sa.select(Membership).where(
        Membership.organization_id == market.canal.id)).user)
    outbox.clear()
    response = client.post(url, data={"subject": "Second", "body": "News", "confirm": "1"})
    assert response.status_code == 303
    assert [mail.to for mail in outbox] == [["carol@example.org"]]


def test_a_consent_withdrawn_while_the_batches_wait_gets_nothing(app, market, outbox,
                                                                  monkeypatch):
    from marketplace.consent import messages as module

    for email in ("a@example.org", "b@example.org"):
        db.session.add(MarketingConsent(organization_id=market.canal.id, email=email,
                                        wording="w", locale="en"))
    db.session.commit()
    queued = []
    monkeypatch.setattr(module, "enqueue_batches", queued.append)
    from marketplace import uow

    with uow.unit():
        message = messages.queue_message(market.canal, subject="Hello", body="News")
    consent = consents(market.canal)[0]
    consent.withdrawn_at = consent.given_at
    db.session.commit()
    outcome = messages.send_batch(queued[0])
    db.session.commit()
    assert outcome == {"sent": [queued[0][1]], "skipped": [queued[0][0]], "failed": []}
    assert [mail.to for mail in outbox] == [["b@example.org"]]
    # Sent once: a batch run again sends nothing.
    assert messages.send_batch(queued[0])["sent"] == []
    assert message.recipients_count == 2


def test_a_seller_with_no_consent_cannot_send(client, login, market):
    login(manager_of(market.loire))
    response = client.post(f"/orgs/{market.loire.id}/customers/message",
                           data={"subject": "Hi", "body": "News", "confirm": "1"})
    assert response.status_code == 409
    assert "No customer has agreed to hear from you yet." in text(response)


def test_counter_staff_do_not_see_the_list(client, login, market):
    user = factories.make_user(email="counter@example.org", locale="en")
    db.session.add(Membership(organization=market.canal, user=user, role=Role.COUNTER))
    login(user)
    assert client.get(f"/orgs/{market.canal.id}/customers").status_code == 403
    assert client.get(f"/orgs/{market.canal.id}/customers.csv").status_code == 403


def test_the_one_click_post_needs_no_csrf_token(make_app):
    """A mail client posts "List-Unsubscribe=One-Click" with no session and no token."""
    from marketplace.consent.services import unsubscribe_token

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        seller = factories.make_organization(name="Atelier")
        consent = MarketingConsent(organization_id=seller.id, email="a@example.org",
                                   wording="w", locale="fr")
        db.session.add(consent)
        db.session.commit()
        with app.test_request_context():
            token = unsubscribe_token(consent)
        response = app.test_client().post(f"/unsubscribe/{token}",
                                          data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        db.session.expire_all()
        assert consent.withdrawn_how == "one-click"
