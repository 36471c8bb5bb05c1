from marketplace.db import db
from tests.accounts.helpers import is_logged_in, log_in, mails_to, text
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "mon nouveau secret"


def change(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": confirm or new},
    )


def test_changing_the_password_needs_the_current_one(app, client, make_user, outbox):
    make_user(email="careful@example.org")
    db.session.commit()
    log_in(client, "careful@example.org")

    response = change(client, current="a wrong guess")

    assert response.status_code == 200
    assert "Your current password is incorrect." in text(response)
    assert is_logged_in(client)
    assert log_in(app.test_client(), "careful@example.org", NEW_PASSWORD).status_code == 200
    assert outbox == []


def test_changing_the_password_logs_out_the_other_devices_only(app, make_user, outbox):
    make_user(email="moving@example.org")
    db.session.commit()
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    log_in(laptop, "moving@example.org")
    log_in(phone, "moving@example.org")
    log_in(tablet, "moving@example.org", remember_me="y")
    old_phone_cookie = phone.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    response = change(laptop)

    assert response.status_code == 302
    assert "Your other devices have been logged out" in text(laptop.get("/account"))
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert not is_logged_in(tablet)  # the remember-me cookie does not bring it back either
    # Replaying the old session cookie does not work.
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], old_phone_cookie)
    assert not is_logged_in(replay)

    assert log_in(phone, "moving@example.org", NEW_PASSWORD).status_code == 302
    (notice,) = mails_to(outbox, "moving@example.org")
    assert "password was changed" in notice.subject
    assert "/password/forgot" in notice.body


def test_a_remembered_browser_stays_remembered_after_the_change(app, make_user):
    make_user(email="kept@example.org")
    db.session.commit()
    browser = app.test_client()
    log_in(browser, "kept@example.org", remember_me="y")

    change(browser)

    # Closing the browser (losing the session cookie) keeps the user logged in.
    browser.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert is_logged_in(browser)


def test_the_new_password_follows_the_policy(app, client, make_user, outbox):
    make_user(email="rules@example.org")
    db.session.commit()
    log_in(client, "rules@example.org")

    assert "at least 10 characters" in text(change(client, new="tiny"))
    assert "must not be your email address" in text(change(client, new="rules@example.org"))
    assert "not the same" in text(change(client, confirm=NEW_PASSWORD + "?"))
    assert log_in(app.test_client(), "rules@example.org", DEFAULT_PASSWORD).status_code == 302
    assert outbox == []


def test_change_password_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
