"""Declarative base with a constraint naming convention, common mixins and lock helpers."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, lazyload, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Aware UTC now; every timestamp is stored in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )



class LockTimeout(Exception):
    """A row lock could not be had in time: the user is asked to try again."""


@contextmanager
def lock_waits() -> Iterator[None]:
    """Around a statement that may wait for a row lock: a wait longer than the lock_timeout
    (DB_LOCK_TIMEOUT_SECONDS, set in create_app on PostgreSQL; SQLite's busy timeout) raises
    LockTimeout, which the caller may catch (skip, retry later) and the app answers as
    "busy, please try again"."""
    try:
        yield
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise LockTimeout() from exc
        raise


def lock_rows(model, ids: Iterable[int], *, share: bool = False) -> list:
    """SELECT ... FOR UPDATE the rows of `model` with these ids, in id order to avoid deadlocks,
    re-read as they are now; the model's eager relationships are not loaded (nor locked).
    `share`: FOR SHARE, which holders do not wait for each other but FOR UPDATE waits for.
    A lock that cannot be had in time raises LockTimeout (lock_waits). SQLite serialises
    writers itself and ignores FOR UPDATE.
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    stmt = (
        sa.select(model)
        .where(model.id.in_(ids))
        .order_by(model.id)
        .options(lazyload("*"))
        .with_for_update(of=model, read=share)
        .execution_options(populate_existing=True)  # re-read values under the lock
    )
    with lock_waits():
        return list(db.session.scalars(stmt))


def insert_on_conflict(table, dialect: str | None = None):
    """An INSERT into `table` (a Table or a model) that can say ON CONFLICT ... DO NOTHING / DO UPDATE, in the
    dialect of the session's database (PostgreSQL and SQLite both have it), or the `dialect`
    named: a row written once however many requests write it at the same moment, without a
    unique violation."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = dialect or db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def update_in_id_order(model, values_by_id: Mapping[int, Mapping], *, where_by_id: Mapping | None = None) -> dict:
    """UPDATE each row of `model` with its values (SQL expressions allowed, such as
    `model.counter + 1`), one statement per row in id order, RETURNING the row.

    The UPDATE takes the row's lock itself: the rows are locked in the same global order as
    lock_rows, in one round trip each instead of a SELECT ... FOR UPDATE and an UPDATE. Under
    READ COMMITTED, a row another transaction changed is updated and returned as that
    transaction committed it. `where_by_id` adds a condition per row: a row that fails it, or
    does not exist, is neither changed nor returned. Returns {id: row}, the rows in the session
    with their current values. A lock timeout raises LockTimeout (lock_waits).
    """
    session = db.session
    rows = {}
    for row_id in sorted(values_by_id):
        stmt = sa.update(model).where(model.id == row_id)
        if where_by_id and row_id in where_by_id:
            stmt = stmt.where(where_by_id[row_id])
        stmt = (
            stmt.values(dict(values_by_id[row_id]))
            .returning(model)
            .options(lazyload("*"))  # the row only: relationships are read if asked for
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        with lock_waits():
            row = session.scalars(stmt).one_or_none()
        if row is not None:
            rows[row_id] = row
    return rows


def is_lock_timeout(exc: BaseException) -> bool:
    """True for PostgreSQL's lock_not_available (55P03) and SQLite's 'database is locked'."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate == "55P03":
        return True
    return "database is locked" in str(exc)


# Schema objects made by hand (full-text search) that the models do not describe: Alembic's
# comparison skips them. A name ending in "*" covers every name with that prefix.
EXTERNAL_SCHEMA_OBJECTS: set[str] = set()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic hook: compare only what the models own."""
    if name is None:
        return True
    for pattern in EXTERNAL_SCHEMA_OBJECTS:
        if name == pattern or (pattern.endswith("*") and name.startswith(pattern[:-1])):
            return False
    return True
