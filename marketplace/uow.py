"""One unit of work: a request, a CLI command or a job commits once, here, on success, and rolls
back on any error. Views, services and tasks never commit; what must follow the commit (a job,
a gateway call that acts on committed rows) is queued with `after_commit` and runs once the
unit has committed, each callback in a unit of its own.

A request commits when its answer is not an error (status < 400) and no code refused it
(`refuse`); an answer that is an error rolls back, unless the view said that what it wrote
stands anyway (`keep`: a counted failed attempt, a lookup limit). The steps that must be durable
on their own before the unit ends (a payout recorded before the next transfer, a refund already
sent to Stripe) call `durable_step`, and each of them is listed and explained in
docs/architecture.md.

Units nest: a job run in-process (Celery eager) inside a request joins the request's unit, and
a CLI command that calls a service that is also a job commits once, at the command's end.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, Response
from flask.cli import AppGroup

from marketplace.db import db

log = logging.getLogger(__name__)

_ACTIVE = "uow.active"
_REFUSED = "uow.refused"
_KEEP = "uow.keep"
_AFTER = "uow.after_commit"


def _info() -> dict:
    return db.session().info


def active() -> bool:
    """True inside a unit of work (a request, a CLI command, a job)."""
    return bool(db.session.registry.has() and _info().get(_ACTIVE))


def refuse() -> None:
    """This unit must not commit: what it wrote is rolled back at its end, even if the answer
    is a success page (a form that failed half-way and is shown again)."""
    _info()[_REFUSED] = True


def abandon() -> None:
    """This unit has failed and will not commit: what it wrote is rolled back now, its
    SAVEPOINTs with it, so that the page that says why reads the database as it stands
    (`refuse` alone rolls back only at the unit's end)."""
    db.session.rollback()
    refuse()


def keep() -> None:
    """What this request wrote stands although its answer is an error (status >= 400): a failed
    login attempt counted, a wrong gift-card code counted against the lookup limit."""
    _info()[_KEEP] = True


def after_commit(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run `callback(*args, **kwargs)` once this unit has committed, in a unit of its own; it
    is dropped if the unit rolls back. Outside a unit (a test calling a service directly) the
    callback waits for the next `finish`."""
    _info().setdefault(_AFTER, []).append(functools.partial(callback, *args, **kwargs))


def durable_step(*, keep_state: bool = False) -> None:
    """Commit now, inside a unit, because the next step must not run unless this one is on disk
    (a payout transfer recorded before the next one is asked of Stripe). Every call site is a
    named exception listed in docs/architecture.md, and a test checks that list.

    `keep_state`: the unit goes on with the objects it has just written itself, which need no
    reading back; the commit does not expire them (the default would reload each of them, and
    their collections, at the next attribute read: a quarter of a checkout's CPU)."""
    session = db.session()
    if not keep_state:
        session.commit()
        return
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous


def begin() -> None:
    info = _info()
    info[_ACTIVE] = True
    info.pop(_REFUSED, None)
    info.pop(_KEEP, None)


def finish(success: bool) -> None:
    """End the unit: commit if `success` and nothing refused it, roll back otherwise; then run
    the callbacks queued for after the commit, each in its own unit (a failing one is logged and
    rolled back: the commit stands)."""
    session = db.session()
    info = session.info
    commit = success and not info.pop(_REFUSED, False)
    info.pop(_KEEP, None)
    info.pop(_ACTIVE, None)
    callbacks = info.pop(_AFTER, [])
    try:
        if commit:
            _refuse_an_aborted_transaction(session)
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    if not commit:
        return
    for callback in callbacks:
        try:
            with unit():
                callback()
        except Exception:  # noqa: BLE001 - the unit committed; a failed follow-up is logged
            log.exception("A step queued after the commit failed: %r", callback)


class AbortedTransaction(RuntimeError):
    """A statement failed earlier in the unit and the code carried on: PostgreSQL would answer
    the COMMIT with a silent ROLLBACK, so the unit fails instead of passing for a success."""


def _refuse_an_aborted_transaction(session) -> None:
    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    from psycopg.pq import TransactionStatus

    driver = session.connection().connection.driver_connection
    if driver.info.transaction_status == TransactionStatus.INERROR:
        raise AbortedTransaction("a statement of this unit of work failed; nothing was saved")


@contextmanager
def unit() -> Iterator[None]:
    """A unit of work for a CLI command or a job: commits at its end, rolls back on an error.
    Inside another unit it joins it (the outer unit commits)."""
    if active():
        yield
        return
    begin()
    try:
        yield
    except BaseException:
        finish(False)
        raise
    finish(True)


def in_unit(function: Callable) -> Callable:
    """Decorator: the function runs as a unit of work (or joins the current one)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with unit():
            return function(*args, **kwargs)

    return wrapper


class UnitOfWorkGroup(AppGroup):
    """A Click group whose commands each run as one unit of work."""

    def command(self, *args, **kwargs):
        wrap = super().command(*args, **kwargs)

        def decorator(function):
            return wrap(in_unit(function))

        return decorator


def _request_succeeded(response: Response) -> bool:
    if response.status_code < 400:
        return True
    return bool(_info().get(_KEEP))


def init_app(app: Flask) -> None:
    @app.before_request
    def _begin():
        begin()

    @app.after_request
    def _finish(response: Response) -> Response:
        # Runs for every answer, error pages included (Flask calls it for the 500 page too),
        # before the answer leaves: a failed commit is never answered as a success.
        if db.session.registry.has() and _info().get(_ACTIVE):
            finish(_request_succeeded(response))
        return response


def command_in_unit(command: click.Command) -> click.Command:
    """Wrap an already built Click command so that it runs as one unit of work."""
    command.callback = in_unit(command.callback)
    return command


def savepoint():
    """A SAVEPOINT inside the unit (`with uow.savepoint(): ...`): a step that may fail alone
    (a busy order skipped by the sweeper, a refused event) rolls back to it, and the unit goes
    on. On SQLite the unit's transaction is begun first: Python's sqlite3 begins one only
    before a write, and a SAVEPOINT opened outside a transaction is one, which its RELEASE
    commits, the rest of the unit's work with it."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN")
    return session.begin_nested()
