"""Throttling is off in the test config; these tests build an app with it on."""
import re

from marketplace.db import db
from tests import factories
from tests.accounts.helpers import is_logged_in, log_in, text


def test_repeated_wrong_logins_for_one_email_are_throttled(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        factories.make_user(email="target@example.org")
        factories.make_user(email="colleague@example.org")
        db.session.commit()
        attacker = app.test_client()

        for _ in range(5):
            assert log_in(attacker, "target@example.org", "guess").status_code == 200

        throttled = log_in(attacker, "Target@example.org", "guess")
        assert throttled.status_code == 429
        assert "Too many attempts" in text(throttled)
        # Even the right password is refused while throttled.
        assert log_in(attacker, "target@example.org").status_code == 429
        assert not is_logged_in(attacker)
        # The limit is per address: a colleague behind the same IP address can still log in.
        assert log_in(app.test_client(), "colleague@example.org").status_code == 302


def test_successful_logins_do_not_use_up_the_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        factories.make_user(email="daily@example.org")
        db.session.commit()
        for _ in range(8):
            browser = app.test_client()
            assert log_in(browser, "daily@example.org").status_code == 302


def test_password_reset_requests_are_throttled(make_app):
    app = make_app(RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [
            client.post("/password/forgot", data={"email": f"n{i}@example.org"}).status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 429]


def test_registrations_are_throttled(make_app):
    app = make_app(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="1 per hour")
    with app.app_context():
        client = app.test_client()
        data = {"name": "Bot", "password": "a long password", "confirm": "a long password"}
        assert client.post("/register", data={**data, "email": "a@example.org"}).status_code == 200
        assert client.post("/register", data={**data, "email": "b@example.org"}).status_code == 429
        # Reading the form is not limited.
        assert client.get("/register").status_code == 200


def test_confirmation_link_requests_are_throttled_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, VERIFICATION_RESEND_RATE_LIMIT="2 per minute")
    with app.app_context():
        statuses = [
            app.test_client()
            .post("/verify-email/resend", data={"email": "spammed@example.org"})
            .status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        page = text(app.test_client().get("/verify-email/resend"))
        assert re.search(r'<input[^>]*name="email"', page)
