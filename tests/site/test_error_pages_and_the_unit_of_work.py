"""Error pages and the unit of work: an error answer rolls back what the request wrote, unless
the view kept it (uow.keep); a failed statement ends the unit before the error page is shown,
so the page renders from a clean session."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.accounts.models import User
from marketplace.audit.models import AuditEntry
from marketplace.db import LockTimeout, db
from marketplace.errors import DomainError


def _add(action: str) -> None:
    db.session.add(AuditEntry(action=action, subject_type="Test", data={}))


@pytest.fixture
def app_with_errors(make_app):
    app = make_app(PROPAGATE_TEST_ERRORS=False)

    @app.context_processor
    def a_layout_that_reads_the_database():
        return {"entries_so_far": db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))}

    @app.post("/_test/refused")
    def refused():
        _add("test.refused")
        db.session.flush()
        raise DomainError("Refused.", status_code=409)

    @app.post("/_test/refused-but-counted")
    def refused_but_counted():
        _add("test.counted")
        uow.keep()
        raise DomainError("Wrong code.", status_code=404)

    @app.post("/_test/busy")
    def busy():
        _add("test.busy")
        db.session.flush()
        raise LockTimeout()

    @app.post("/_test/failed-flush")
    def failed_flush():
        _add("test.before")
        for _ in range(2):
            db.session.add(User(email="twice@example.org", name="Twice", password_hash="x"))
        db.session.flush()  # the UNIQUE email fails: the session cannot go on
        return "never"

    return app


def _actions(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(AuditEntry.action)))


def test_a_domain_error_answer_rolls_back_what_the_request_wrote(app_with_errors):
    response = app_with_errors.test_client().post("/_test/refused")
    assert response.status_code == 409 and "Refused." in response.get_data(as_text=True)
    assert _actions(app_with_errors) == []


def test_a_domain_error_after_keep_keeps_the_counted_attempt(app_with_errors):
    response = app_with_errors.test_client().post("/_test/refused-but-counted")
    assert response.status_code == 404 and "Wrong code." in response.get_data(as_text=True)
    assert _actions(app_with_errors) == ["test.counted"]


def test_a_lock_timeout_is_a_busy_page_and_keeps_nothing(app_with_errors):
    response = app_with_errors.test_client().post("/_test/busy")
    assert response.status_code == 503
    assert "site-header" in response.get_data(as_text=True)
    assert _actions(app_with_errors) == []


def test_a_failed_flush_is_a_500_page_in_the_layout_and_keeps_nothing(app_with_errors):
    response = app_with_errors.test_client().post("/_test/failed-flush")
    assert response.status_code == 500
    assert "site-header" in response.get_data(as_text=True)
    assert _actions(app_with_errors) == []
    with app_with_errors.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
