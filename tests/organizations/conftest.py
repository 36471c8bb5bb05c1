"""Fixtures shared by the organizations and admin tests."""
from __future__ import annotations

import pytest
from flask import g

from marketplace.db import db


@pytest.fixture
def login(login):
    """The base fixture, but forgetting the user Flask-Login cached on `g`.

    The `app` fixture keeps one application context for the whole test, and Flask-Login caches
    the current user on `g` (which lives on that context): without this, a second login in the
    same test would still act as the first user.
    """

    def do_login(user):
        db.session.commit()  # what the test built is saved, like data made by earlier requests
        g.pop("_login_user", None)
        return login(user)

    return do_login


@pytest.fixture
def logout(client):
    def do_logout():
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session.pop("_user_id", None)

    return do_logout
