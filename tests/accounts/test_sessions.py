"""Logins are sessions kept on the server: logging out ends this one for good (a copy of its
cookie opens nothing afterwards), "log out of every device" ends them all with their remember-me
cookies, and the account page lists where the account is logged in."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from marketplace.accounts.models import UserSession
from marketplace.db import db, utcnow
from tests.accounts.helpers import is_logged_in, log_in, text

PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Mobile Safari/537.36")
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def camille(make_user):
    user = make_user(email="camille@example.org")
    db.session.commit()
    return user


def device(app, user_agent=LAPTOP):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def cookie(app, client, name="SESSION_COOKIE_NAME") -> str:
    return client.get_cookie(app.config[name]).value


def replay(app, *, session_cookie=None, remember_cookie=None):
    """A new browser holding copies of cookies saved earlier."""
    client = app.test_client()
    if session_cookie:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie)
    if remember_cookie:
        client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], remember_cookie)
    return client


def sessions_of(user) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.id)).all()


def test_a_session_cookie_saved_before_logout_opens_nothing_afterwards(app, camille):
    browser = device(app)
    log_in(browser, "camille@example.org", remember_me="y")
    saved = cookie(app, browser)
    saved_remember = cookie(app, browser, "REMEMBER_COOKIE_NAME")
    assert is_logged_in(replay(app, session_cookie=saved))

    browser.post("/logout")

    for copy in (replay(app, session_cookie=saved), replay(app, remember_cookie=saved_remember)):
        response = copy.get("/account", follow_redirects=True)
        assert response.request.path == "/login"
        assert 'name="password"' in text(response)
    assert sessions_of(camille) == []


def test_logging_out_ends_this_device_only(app, camille):
    laptop, phone = device(app), device(app, PHONE)
    log_in(laptop, "camille@example.org")
    log_in(phone, "camille@example.org")
    laptop.post("/logout")
    assert not is_logged_in(laptop)
    assert is_logged_in(phone)
    assert [s.browser for s in sessions_of(camille)] == ["Chrome"]


def test_log_out_of_every_device_ends_every_session_and_remember_cookie(app, camille):
    laptop, phone = device(app), device(app, PHONE)
    log_in(laptop, "camille@example.org")
    log_in(phone, "camille@example.org", remember_me="y")
    phone_remember = cookie(app, phone, "REMEMBER_COOKIE_NAME")
    phone_session = cookie(app, phone)

    page = text(laptop.get("/account"))
    assert "Log out of every device" in page
    response = laptop.post("/account/sessions/end-all", follow_redirects=True)

    assert response.request.path == "/login"
    assert "You are logged out of every device." in text(response)
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert not is_logged_in(replay(app, remember_cookie=phone_remember))
    assert not is_logged_in(replay(app, session_cookie=phone_session))
    assert sessions_of(camille) == []
    assert log_in(phone, "camille@example.org").status_code == 302  # a new login works


def test_the_account_page_lists_the_devices_and_ends_one(app, camille):
    laptop, phone = device(app), device(app, PHONE)
    log_in(laptop, "camille@example.org")
    log_in(phone, "camille@example.org", remember_me="y")

    page = text(laptop.get("/account"))
    assert "Where you are logged in" in page
    assert "Firefox on Linux" in page and "Chrome on Android" in page
    assert page.count("This device") == 1

    _laptop, phone_session = sessions_of(camille)
    response = laptop.post(f"/account/sessions/{phone_session.id}/end", follow_redirects=True)
    assert response.request.path == "/account"
    assert "Chrome on Android is logged out." in text(response)
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)


def test_a_session_of_someone_else_cannot_be_ended(app, camille, make_user):
    make_user(email="dominique@example.org")
    db.session.commit()
    theirs, mine = device(app), device(app)
    log_in(theirs, "dominique@example.org")
    log_in(mine, "camille@example.org")
    (their_session,) = [s for s in db.session.scalars(sa.select(UserSession))
                        if s.user_id != camille.id]
    assert mine.post(f"/account/sessions/{their_session.id}/end").status_code == 404
    assert mine.post("/account/sessions/not-a-number/end").status_code == 404
    assert is_logged_in(theirs)


def test_ending_sessions_needs_a_login_and_a_post(app, camille):
    browser = device(app)
    assert browser.post("/account/sessions/end-all").headers["Location"].startswith("/login")
    log_in(browser, "camille@example.org")
    assert browser.get("/account/sessions/end-all").status_code == 405
    assert is_logged_in(browser)


def test_a_session_ends_by_itself_after_its_lifetime(app, camille):
    """A browser session ends when unused for the session cookie's lifetime; "stay logged in"
    ends with the remember-me cookie the browser got at login, used or not."""
    plain, remembered = device(app), device(app, PHONE)
    log_in(plain, "camille@example.org")
    log_in(remembered, "camille@example.org", remember_me="y")
    remember_cookie = cookie(app, remembered, "REMEMBER_COOKIE_NAME")
    plain_session, _ = sessions_of(camille)
    idle = timedelta(days=app.config["PERMANENT_SESSION_LIFETIME_DAYS"])

    plain_session.last_seen_at = utcnow() - idle + timedelta(minutes=1)
    db.session.commit()
    assert is_logged_in(plain)  # used in time: it goes on
    plain_session.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    db.session.commit()
    assert not is_logged_in(plain)  # its cookie is still valid: the server says no all the same

    start = utcnow()
    remember_days = app.config["REMEMBER_COOKIE_DURATION_DAYS"]
    with freeze_time(start + timedelta(days=remember_days, minutes=-1)):
        assert is_logged_in(replay(app, remember_cookie=remember_cookie))
    with freeze_time(start + timedelta(days=remember_days, minutes=1)):
        assert not is_logged_in(replay(app, remember_cookie=remember_cookie))
        log_in(device(app), "camille@example.org")  # a new login clears the ended ones
    assert [s.remembered for s in sessions_of(camille)] == [False]


def test_a_deactivated_account_is_logged_out_everywhere(app, camille):
    browser = device(app)
    log_in(browser, "camille@example.org")
    camille.is_active_account = False
    db.session.commit()
    assert not is_logged_in(browser)


def test_loading_the_user_is_one_statement_and_last_seen_is_written_only_now_and_then(app, camille):
    browser = device(app)
    log_in(browser, "camille@example.org")
    (session,) = sessions_of(camille)
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, stmt, *args: statements.append(stmt))

    assert browser.get("/account/orders").status_code == 200  # a page that lists no sessions
    loads = [s for s in statements if "user_session" in s]
    assert len(loads) == 1 and loads[0].lstrip().upper().startswith("SELECT")
    assert "membership" in loads[0]  # the user, their memberships and the session at once

    statements.clear()
    with freeze_time(utcnow() + timedelta(minutes=4)):
        assert browser.get("/account/orders").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert sessions_of(camille)[0].last_seen_at == session.last_seen_at

    later = utcnow() + timedelta(minutes=6)
    with freeze_time(later):
        assert browser.get("/account/orders").status_code == 200
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE USER_SESSION")]) == 1
    assert abs(sessions_of(camille)[0].last_seen_at - later) < timedelta(seconds=5)


def test_the_login_fixture_makes_a_real_session(client, login, make_user):
    user = login(make_user(email="fixture@example.org"))
    assert is_logged_in(client)
    client.post("/logout")
    assert not is_logged_in(client)
    assert sessions_of(user) == []
