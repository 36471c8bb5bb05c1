"""Test fixtures: one database per test session (SQLite file, or a PostgreSQL database made and
dropped here when TEST_DATABASE_URL points at a server), emptied after every test."""
from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.catalog.search import FTS_TABLE
from marketplace.catalog.services import sync_categories
from marketplace.db import db
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

# The environment's settings win over the configuration files, and `make` exports the address
# `make run` would serve (SERVER_BASE_URL): the tests build their links on config/testing.py's.
for _name in ("SERVER_BASE_URL", "MARKETPLACE_CONFIG"):
    os.environ.pop(_name, None)
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


# These packages assert on the English messages (the msgids), so they do not depend on the
# wording of the French catalog; tests/test_translations.py checks that French is the default.
ENGLISH_PACKAGES = {
    "accounts", "organizations", "admin", "catalog", "pickup", "api", "orders", "payments",
    "vouchers", "giftcards", "ledger", "campaigns",
}


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if not ON_POSTGRES and "postgres" in item.keywords:
            item.add_marker(skip)
        if Path(item.path).parent.name in ENGLISH_PACKAGES:
            item.add_marker(pytest.mark.english)


@contextlib.contextmanager
def throwaway_postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the server of TEST_DATABASE_URL, dropped (connections closed) after."""
    url = sa.make_url(TEST_DATABASE_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    with throwaway_postgres_database("test_ess") as url:
        yield url


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory) -> str:
    """Tables made once per session from the models (a separate test checks the migrations)."""
    app = create_app("testing", overrides=_base_overrides(database_url, tmp_path_factory))
    with app.app_context():
        db.create_all()
        sync_categories()
        db.session.commit()
        db.engine.dispose()
    return database_url


def _base_overrides(database_url, tmp_path_factory) -> dict:
    instance = tmp_path_factory.getbasetemp() / "instance"
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": str(instance / "uploads"),
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
    }


# Reference data that the migrations load and every test may rely on.
KEPT_TABLES = {"category"}


def _empty_all_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
        db.session.execute(sa.text(f"DELETE FROM {FTS_TABLE}"))  # noqa: S608 - a constant
    db.session.commit()


class FreshRequestClient(FlaskClient):
    """Each request starts with an empty `g`, as in production (the tests' app context, and so
    the database session, is shared with the requests; Flask-Login and Flask-Babel cache on g)."""

    def open(self, *args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                g.__dict__.clear()


@pytest.fixture
def english_messages(request) -> bool:
    return request.node.get_closest_marker("english") is not None


@pytest.fixture
def make_app(_schema, tmp_path_factory, english_messages):
    """Build an app with extra settings (e.g. make_app(WTF_CSRF_ENABLED=True))."""
    apps: list[Flask] = []

    def build(**overrides) -> Flask:
        if english_messages:
            overrides.setdefault("BABEL_DEFAULT_LOCALE", "en")
        settings = _base_overrides(_schema, tmp_path_factory)
        settings.update(overrides)
        app = create_app(overrides.pop("config_name", "testing"), overrides=settings)
        app.test_client_class = FreshRequestClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app) -> list:
    """Mails sent through the locmem backend (after commit), oldest first."""
    mailman = app.extensions["mailman"]
    mailman.outbox = []
    return mailman.outbox


@pytest.fixture
def login(client):
    """login(user): the test client is logged in as this user (no form round trip): a session
    is recorded for it, and committed."""

    def do_login(user):
        g.pop("_login_user", None)  # Flask-Login caches the user of the last request on g
        key = factories.make_session_key(user)  # a real login, which logging out ends
        # Committed, as a login request would: a request that rolls back (a refused form)
        # must not take the login with it. What the test built so far is committed with it.
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = key
            session["_fresh"] = True
        return user

    return do_login


# Factories as fixtures, so tests ask for what they need.
@pytest.fixture
def make_user(app, english_messages):
    if english_messages:
        return functools.partial(factories.make_user, locale="en")
    return factories.make_user


@pytest.fixture
def make_organization(app):
    return factories.make_organization


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A brand-new empty database (for migration tests), dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with throwaway_postgres_database("test_ess_empty") as url:
        yield url


@pytest.fixture
def make_product(app):
    return factories.make_product
