"""How a request's transaction ends (marketplace.db.end_read_only_transactions): a request that
only read commits on PostgreSQL, which keeps the connection's prepared statements; anything
else is rolled back as before."""
from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from tests.conftest import ON_POSTGRES


def _entry() -> dict:
    return {"created_at": sa.func.now(), "action": "test.teardown", "subject_type": "Test",
            "data": {}}


@pytest.fixture
def app_with_routes(make_app):
    """An app with test routes, each request in an app context of its own (as in production:
    the tests' usual app fixture shares one context, and so one session, with the requests)."""
    app = make_app()

    @app.get("/_test/read")
    def read():
        return str(db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))

    @app.post("/_test/write-without-commit")
    def write_without_commit():
        db.session.execute(sa.insert(AuditEntry).values(**_entry()))
        return "not committed"

    @app.post("/_test/add-without-flush")
    def add_without_flush():
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        db.session.add(AuditEntry(action="test.teardown", subject_type="Test", data={}))
        return "pending"

    @app.post("/_test/write-then-fail")
    def write_then_fail():
        db.session.execute(sa.insert(AuditEntry).values(**_entry()))
        raise RuntimeError("the request failed")

    return app


def _endings(app) -> list[str]:
    """'commit' and 'rollback', in order, as the engine ends transactions from now on."""
    endings: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "commit", lambda conn: endings.append("commit"))
    sa.event.listen(engine, "rollback", lambda conn: endings.append("rollback"))
    return endings


def _entries(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def test_a_request_that_only_read_commits_on_postgres_and_rolls_back_on_sqlite(app_with_routes):
    endings = _endings(app_with_routes)
    response = app_with_routes.test_client().get("/_test/read")
    assert response.status_code == 200 and response.text == "0"
    assert endings == (["commit"] if ON_POSTGRES else ["rollback"])


@pytest.mark.parametrize("route", [
    "/_test/write-without-commit",  # a write left uncommitted
    "/_test/add-without-flush",  # changes left unflushed: rolled back, not flushed
])
def test_what_a_request_left_undone_is_rolled_back(app_with_routes, route):
    endings = _endings(app_with_routes)
    response = app_with_routes.test_client().post(route)
    assert response.status_code == 200
    assert endings == ["rollback"]
    assert _entries(app_with_routes) == 0


def test_a_failed_request_is_rolled_back(app_with_routes):
    endings = _endings(app_with_routes)
    with pytest.raises(RuntimeError, match="the request failed"):
        app_with_routes.test_client().post("/_test/write-then-fail")
    assert endings == ["rollback"]
    assert _entries(app_with_routes) == 0


@pytest.mark.postgres
def test_an_aborted_transaction_is_rolled_back(app_with_routes):
    """A statement failed and the view carried on: asking what was written fails too, and the
    usual rollback ends the transaction (the request does not fail because of it)."""

    @app_with_routes.get("/_test/swallow-error")
    def swallow_error():
        with contextlib.suppress(sa.exc.DBAPIError):
            db.session.execute(sa.text("SELECT 1 / 0"))
        return "carried on"

    endings = _endings(app_with_routes)
    response = app_with_routes.test_client().get("/_test/swallow-error")
    assert response.status_code == 200
    assert endings == ["rollback"]
    assert app_with_routes.test_client().get("/_test/read").text == "0"
