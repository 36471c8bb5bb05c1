"""CSRF is off in the test config; production has it on."""
import re

from marketplace.db import db
from tests import factories
from tests.accounts.helpers import is_logged_in, text


def test_login_without_the_csrf_token_is_refused(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        factories.make_user(email="csrf@example.org")
        db.session.commit()
        client = app.test_client()
        credentials = {"email": "csrf@example.org", "password": factories.DEFAULT_PASSWORD}

        response = client.post("/login", data=credentials)

        assert response.status_code == 400
        assert "security token" in text(response)
        assert not is_logged_in(client)

        # The real form carries its token, so a person using it gets in.
        page = text(client.get("/login"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={**credentials, "csrf_token": token})
        assert response.status_code == 302
        assert is_logged_in(client)


def test_logout_without_the_csrf_token_does_not_log_out(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        key = factories.make_session_key(factories.make_user())
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key

        assert client.post("/logout").status_code == 400
        assert is_logged_in(client)
