import re

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.db import db
from tests.accounts.helpers import is_logged_in, link_path, log_in, mails_to, text

PASSWORD = "une belle journée"


def register(client, email, *, name="Sacha Leroy", password=PASSWORD, confirm=None, next_path=None):
    return client.post(
        "/register",
        query_string={"next": next_path} if next_path else None,
        data={"name": name, "email": email, "password": password, "confirm": confirm or password},
    )


def count_users(email):
    query = sa.select(sa.func.count()).select_from(User).where(User.email == email)
    return db.session.scalar(query)


def test_register_then_confirm_by_email_then_log_in(client, outbox):
    response = register(client, "  Sacha@Example.org ")
    assert response.status_code == 200
    assert "We have sent an email to sacha@example.org" in text(response)

    # Not usable before the address is confirmed.
    user = accounts.get_by_email("sacha@example.org")
    assert user.name == "Sacha Leroy" and not user.is_verified
    (mail,) = mails_to(outbox, "sacha@example.org")
    verify_path = link_path(mail, "/verify-email/")

    response = client.get(verify_path, follow_redirects=True)
    assert response.request.path == "/login"
    assert "your email address is confirmed" in text(response)

    response = log_in(client, "sacha@example.org", PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_register_with_an_existing_email_looks_the_same_and_warns_the_owner(
    app, make_user, outbox
):
    make_user(email="taken@example.org", name="Owner")
    db.session.commit()

    def page_for(email):
        response = register(app.test_client(), email)
        body = text(response).replace(email, "EMAIL")
        return response.status_code, re.sub(r'name="csrf_token" value="[^"]*"', "", body)

    assert page_for("taken@example.org") == page_for("fresh@example.org")
    # A differently written address is the same address.
    assert page_for(" TAKEN@example.org")[0] == 200

    assert count_users("taken@example.org") == 1
    assert accounts.get_by_email("taken@example.org").name == "Owner"
    warnings = mails_to(outbox, "taken@example.org")
    assert len(warnings) == 2
    assert "tried to create an account" in warnings[0].subject
    link_path(warnings[0], "/login")
    link_path(warnings[0], "/password/forgot")
    assert "/verify-email/" not in warnings[0].body
    # The new address got its confirmation link.
    (welcome,) = mails_to(outbox, "fresh@example.org")
    link_path(welcome, "/verify-email/")


def test_a_registration_racing_another_one_is_treated_as_taken(app, make_user, outbox, monkeypatch):
    """Two sign-ups for one address at once: the unique index refuses the second, no 500."""
    make_user(email="racer@example.org")
    db.session.commit()
    real_get_by_email = accounts.get_by_email
    calls = []

    def not_seen_the_first_time(email):
        calls.append(email)
        return None if len(calls) == 1 else real_get_by_email(email)

    monkeypatch.setattr(accounts, "get_by_email", not_seen_the_first_time)
    response = register(app.test_client(), "racer@example.org")

    assert response.status_code == 200
    assert count_users("racer@example.org") == 1
    (warning,) = mails_to(outbox, "racer@example.org")
    assert "tried to create an account" in warning.subject


def test_register_refuses_weak_or_mismatched_passwords(client, outbox):
    response = register(client, "weak@example.org", password="short")
    assert "at least 10 characters" in text(response)

    response = register(client, "same@example.org", password="same@example.org")
    assert "must not be your email address" in text(response)

    response = register(client, "typo@example.org", password=PASSWORD, confirm=PASSWORD + "x")
    assert "The two passwords are not the same." in text(response)

    response = register(client, "not-an-email", password=PASSWORD)
    assert "Please enter a valid email address" in text(response)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert outbox == []


def test_register_form_helps_phones_and_labels_every_input(client):
    page = text(client.get("/register"))
    for field_id in ("name", "email", "password", "confirm"):
        assert f'<label for="{field_id}">' in page
    assert 'autocomplete="name"' in page
    assert 'autocomplete="email"' in page and 'inputmode="email"' in page
    assert page.count('autocomplete="new-password"') == 2
    assert 'minlength="10"' in page


def test_the_account_keeps_the_language_it_was_created_in(client, outbox):
    client.set_cookie("lang", "fr")
    register(client, "francais@example.org")
    assert accounts.get_by_email("francais@example.org").locale == "fr"


def test_someone_invited_comes_back_to_the_invitation_after_confirming(client, outbox):
    invitation = "/invitations/abc123"
    query = {"next": invitation, "email": "invitee@example.org"}
    page = text(client.get("/register", query_string=query))
    assert 'value="invitee@example.org"' in page

    register(client, "invitee@example.org", next_path=invitation)
    verify_path = link_path(mails_to(outbox, "invitee@example.org")[0], "/verify-email/")

    response = client.get(verify_path)
    assert response.headers["Location"] == "/login?next=/invitations/abc123"
    response = client.post(
        response.headers["Location"], data={"email": "invitee@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == invitation


def test_a_foreign_next_is_not_carried_into_the_email(client, outbox):
    register(client, "careful@example.org", next_path="https://evil.example/")
    (mail,) = mails_to(outbox, "careful@example.org")
    assert "evil" not in mail.body
    assert client.get(link_path(mail, "/verify-email/")).headers["Location"] == "/login"
