"""The unit of work (marketplace.uow): a request, a CLI command or a job commits once, at its
end, on success; rolls back on any error; what was queued for after the commit runs after it."""
from __future__ import annotations

import contextlib
import logging

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from marketplace import uow
from marketplace.audit.models import AuditEntry
from marketplace.db import db


def _add(action: str = "test.uow") -> None:
    db.session.add(AuditEntry(action=action, subject_type="Test", data={}))


@pytest.fixture
def app_with_routes(make_app):
    """An app with test routes, each request in an app context of its own (as in production:
    the tests' usual app fixture shares one context, and so one session, with the requests)."""
    app = make_app()

    @app.get("/_test/read")
    def read():
        return str(db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))

    @app.post("/_test/write")
    def write():
        _add()
        return "written"

    @app.post("/_test/write-then-refuse-form")
    def write_then_refuse_form():
        _add()
        return "this form has errors", 400

    @app.post("/_test/count-a-failed-attempt")
    def count_a_failed_attempt():
        _add("test.attempt")
        uow.keep()
        return "wrong code", 404

    @app.post("/_test/write-then-refuse")
    def write_then_refuse():
        _add()
        uow.refuse()
        return "shown again"

    @app.post("/_test/write-then-fail")
    def write_then_fail():
        _add()
        db.session.flush()
        raise RuntimeError("the request failed")

    @app.post("/_test/write-and-follow")
    def write_and_follow():
        _add()
        uow.after_commit(_add, "test.after")
        return "followed"

    @app.post("/_test/follow-then-fail")
    def follow_then_fail():
        uow.after_commit(_add, "test.after")
        return "refused", 400

    @app.post("/_test/failing-follow-up")
    def failing_follow_up():
        _add()
        uow.after_commit(lambda: 1 / 0)
        return "the commit stands"

    return app


def _endings(app) -> list[str]:
    """'commit' and 'rollback', in order, as the engine ends transactions from now on."""
    endings: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "commit", lambda conn: endings.append("commit"))
    sa.event.listen(engine, "rollback", lambda conn: endings.append("rollback"))
    return endings


def _actions(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(AuditEntry.action)))


def test_a_request_commits_once_at_its_end(app_with_routes):
    endings = _endings(app_with_routes)
    client = app_with_routes.test_client()
    assert client.post("/_test/write").status_code == 200
    assert endings == ["commit"]
    assert _actions(app_with_routes) == ["test.uow"]
    # A request that only read commits too: on PostgreSQL a ROLLBACK would also throw away
    # the connection's prepared statements (psycopg follows it with DEALLOCATE ALL).
    endings.clear()
    assert client.get("/_test/read").text == "1"
    assert endings == ["commit"]


@pytest.mark.parametrize("route", ["/_test/write-then-refuse-form", "/_test/write-then-refuse"])
def test_an_error_answer_or_a_refused_unit_rolls_back(app_with_routes, route):
    endings = _endings(app_with_routes)
    app_with_routes.test_client().post(route)
    assert "commit" not in endings
    assert _actions(app_with_routes) == []


def test_what_an_error_answer_keeps_stands(app_with_routes):
    response = app_with_routes.test_client().post("/_test/count-a-failed-attempt")
    assert response.status_code == 404
    assert _actions(app_with_routes) == ["test.attempt"]


def test_a_failed_request_is_rolled_back(app_with_routes):
    app_with_routes.config["PROPAGATE_TEST_ERRORS"] = False
    endings = _endings(app_with_routes)
    assert app_with_routes.test_client().post("/_test/write-then-fail").status_code == 500
    assert "commit" not in endings
    assert _actions(app_with_routes) == []


def test_what_follows_the_commit_runs_after_it_in_a_unit_of_its_own(app_with_routes):
    endings = _endings(app_with_routes)
    client = app_with_routes.test_client()
    assert client.post("/_test/write-and-follow").status_code == 200
    assert endings == ["commit", "commit"]
    assert _actions(app_with_routes) == ["test.after", "test.uow"]
    # Dropped when the unit rolls back.
    assert client.post("/_test/follow-then-fail").status_code == 400
    assert _actions(app_with_routes) == ["test.after", "test.uow"]


def test_a_failing_follow_up_is_logged_and_the_commit_stands(app_with_routes, caplog):
    with caplog.at_level(logging.ERROR, logger="marketplace.uow"):
        response = app_with_routes.test_client().post("/_test/failing-follow-up")
    assert response.status_code == 200
    assert _actions(app_with_routes) == ["test.uow"]
    assert any("after the commit failed" in r.getMessage() for r in caplog.records)


def test_units_nest_and_the_outer_one_commits(app):
    endings = _endings(app)
    with uow.unit():
        _add("outer")
        with uow.unit():  # a job run in-process inside a request or a command
            _add("inner")
        assert endings == []
    assert endings == ["commit"]
    with contextlib.suppress(RuntimeError), uow.unit():
        _add("lost")
        raise RuntimeError
    assert sorted(db.session.scalars(sa.select(AuditEntry.action))) == ["inner", "outer"]


def test_a_command_of_a_unit_of_work_group_commits_at_its_end(app):
    group = uow.UnitOfWorkGroup("test-group")

    @group.command("write")
    def write():
        _add("command")

    @group.command("fail")
    def fail():
        _add("failed command")
        raise RuntimeError("stop")

    runner = CliRunner()
    assert runner.invoke(group, ["write"]).exit_code == 0
    result = runner.invoke(group, ["fail"])
    assert isinstance(result.exception, RuntimeError)
    db.session.remove()
    assert sorted(db.session.scalars(sa.select(AuditEntry.action))) == ["command"]


@pytest.mark.postgres
def test_a_request_that_carried_on_after_a_failed_statement_is_not_answered_as_a_success(
        app_with_routes):
    """A statement failed and the view swallowed it: PostgreSQL cannot commit that transaction,
    so the unit fails (an error page in production) and nothing it wrote stays."""

    @app_with_routes.post("/_test/swallow-error")
    def swallow_error():
        _add()
        db.session.flush()
        with contextlib.suppress(sa.exc.DBAPIError):
            db.session.execute(sa.text("SELECT 1 / 0"))
        return "carried on"

    with pytest.raises(uow.AbortedTransaction):
        app_with_routes.test_client().post("/_test/swallow-error")
    assert _actions(app_with_routes) == []
    assert app_with_routes.test_client().get("/_test/read").text == "0"
