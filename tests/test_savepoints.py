"""uow.savepoint: a step of a unit of work that may fail alone, without ending the unit."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa

from marketplace import uow
from marketplace.audit.models import AuditEntry
from marketplace.db import db


def _add(action: str) -> None:
    db.session.add(AuditEntry(action=action, subject_type="Test", data={}))
    db.session.flush()


def _actions() -> list[str]:
    db.session.remove()
    return sorted(db.session.scalars(sa.select(AuditEntry.action)))


def test_a_savepoint_first_in_a_unit_does_not_commit_it(app):
    """On SQLite, a SAVEPOINT opened before anything was written is the transaction itself,
    and its RELEASE a COMMIT: the unit failing afterwards would keep what it had written."""
    with contextlib.suppress(RuntimeError), uow.unit():
        with uow.savepoint():
            _add("in the step")
        _add("after the step")
        raise RuntimeError("the unit fails")
    assert _actions() == []


def test_a_step_rolled_back_to_its_savepoint_leaves_the_rest_of_the_unit(app):
    with uow.unit():
        _add("before")
        with contextlib.suppress(RuntimeError), uow.savepoint():
            _add("refused step")
            raise RuntimeError("this step fails")
        _add("after")
    assert _actions() == ["after", "before"]
