import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.db import db
from tests.accounts.helpers import compared_text, is_logged_in, link_path, log_in, mails_to, text
from tests.factories import DEFAULT_PASSWORD

GENERIC = "The email address or password is incorrect."


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user, outbox):
    make_user(email="known@example.org")
    db.session.commit()

    wrong_password = log_in(client, "known@example.org", "not the password")
    unknown_email = log_in(client, "unknown@example.org", "not the password")

    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert GENERIC in text(response)
    assert compared_text(wrong_password).replace("known@", "X@") == compared_text(unknown_email).replace(
        "unknown@", "X@"
    )
    assert not is_logged_in(client)
    assert outbox == []


def test_login_works_whatever_the_case_of_the_address_and_records_the_time(client, make_user):
    user = make_user(email="camille@example.org")
    db.session.commit()
    assert user.last_login_at is None

    response = log_in(client, "  Camille@EXAMPLE.org")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.last_login_at).where(User.id == user.id)) is not None


def test_unconfirmed_account_is_refused_and_gets_a_new_link(client, make_user, outbox):
    make_user(email="pending@example.org", verified=False)
    db.session.commit()

    # A wrong password learns nothing and sends nothing.
    assert GENERIC in text(log_in(client, "pending@example.org", "wrong password"))
    assert outbox == []

    response = log_in(client, "pending@example.org")
    assert response.status_code == 200
    assert "Please confirm your email address first: we have just sent you a new link." in text(
        response
    )
    assert not is_logged_in(client)
    (mail,) = mails_to(outbox, "pending@example.org")
    client.get(link_path(mail, "/verify-email/"))
    assert log_in(client, "pending@example.org").status_code == 302


def test_a_deactivated_account_gets_the_generic_message(client, make_user, outbox):
    user = make_user(email="gone@example.org")
    user.is_active_account = False
    db.session.commit()

    response = log_in(client, "gone@example.org")

    assert GENERIC in text(response)
    assert not is_logged_in(client)


def test_remember_me_keeps_a_long_lived_cookie_only_when_asked(app, make_user):
    make_user(email="phone@example.org")
    db.session.commit()
    cookie_name = app.config["REMEMBER_COOKIE_NAME"]

    plain = app.test_client()
    log_in(plain, "phone@example.org")
    assert plain.get_cookie(cookie_name) is None

    remembered = app.test_client()
    log_in(remembered, "phone@example.org", remember_me="y")
    cookie = remembered.get_cookie(cookie_name)
    assert cookie is not None and cookie.expires is not None

    # The browser is closed (session cookie gone): the remember cookie still logs the user in.
    remembered.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert is_logged_in(remembered)


def test_logout_is_a_post_and_ends_the_session(client, make_user):
    make_user(email="bye@example.org")
    db.session.commit()
    log_in(client, "bye@example.org", remember_me="y")

    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)

    response = client.post("/logout", follow_redirects=True)
    assert response.request.path == "/"
    assert "You are logged out." in text(response)
    assert not is_logged_in(client)


def test_login_follows_next_only_to_pages_of_this_site(client, make_user):
    make_user(email="next@example.org")
    db.session.commit()

    # A page that needs login sends back to it afterwards.
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    credentials = {"email": "next@example.org", "password": DEFAULT_PASSWORD}
    response = client.post("/login?next=/account", data=credentials)
    assert response.headers["Location"] == "/account"

    evil_targets = ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x")
    for evil in evil_targets:
        client.post("/logout")
        response = client.post("/login", query_string={"next": evil}, data=credentials)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", evil


def test_the_login_form_suits_password_managers_and_phones(client):
    page = text(client.get("/login"))
    assert '<label for="email">' in page and '<label for="password">' in page
    assert 'autocomplete="email"' in page and 'inputmode="email"' in page
    assert 'autocomplete="current-password"' in page
    assert 'href="/password/forgot"' in page


def test_a_logged_in_user_going_to_the_login_page_is_sent_on(client, make_user, login):
    login(make_user())
    db.session.commit()
    assert client.get("/login").headers["Location"] == "/"
    assert client.get("/register").headers["Location"] == "/account"


def test_a_refused_login_writes_nothing(app, client, make_user):
    """The form is shown again (status 200) but the unit of work is refused: the right password
    of a deactivated account, re-hashed with new cost settings on the way, is not saved."""
    user = make_user(email="gone@example.org")
    user.is_active_account = False
    db.session.commit()
    old_hash = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2  # the stored hash now "needs a re-hash"

    response = log_in(client, "gone@example.org")

    assert response.status_code == 200 and GENERIC in text(response)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == user.id)) == old_hash


def test_a_correct_login_saves_the_rehashed_password(app, client, make_user):
    user = make_user(email="here@example.org")
    db.session.commit()
    old_hash = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2

    assert log_in(client, "here@example.org").status_code == 302

    db.session.expire_all()
    new_hash = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert new_hash != old_hash and "t=2" in new_hash
