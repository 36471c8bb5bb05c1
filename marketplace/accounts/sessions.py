"""Logins kept on the server: one UserSession row per device, named by a random key that the
session cookie and the remember-me cookie hold (Flask-Login's user id). Logging out deletes the
row, so a copy of the cookie saved earlier opens nothing afterwards; "log out of every device"
and a new password delete the user's rows.

Every request that shows a logged-in page loads the user, their memberships and this row in one
statement (load); the row's last_seen_at is written at most every TOUCH_EVERY, never on each
request (the counter's redemptions depend on it: bench/redemption_bench.py)."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from marketplace.accounts.models import User, UserSession
from marketplace.db import db, utcnow

TOUCH_EVERY = timedelta(minutes=5)
KEY_MAX_LENGTH = 100  # a key is 43 characters; anything much longer is not one of ours


def _digest(key: str) -> str:
    # The key is random (256 bits): a plain hash is enough, and a stolen table opens nothing.
    return hashlib.sha256(key.encode()).hexdigest()


def _session_lifetime() -> timedelta:
    """How long a browser session may go unused (its cookie's lifetime)."""
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def _remember_lifetime() -> timedelta:
    """How long "stay logged in" lasts from the login: as long as the remember-me cookie the
    browser got then (Flask-Login's cookie itself carries no date a copy could not outlive)."""
    return current_app.config["REMEMBER_COOKIE_DURATION"]


def _ran_out(now: datetime):
    """The rows whose session has ended by itself: a browser session unused for too long, a
    remembered one older than the remember-me cookie."""
    return sa.or_(
        sa.and_(UserSession.remembered.is_(True), UserSession.created_at < now - _remember_lifetime()),
        sa.and_(UserSession.remembered.is_(False), UserSession.last_seen_at < now - _session_lifetime()),
    )


def _has_run_out(*, remembered: bool, created_at: datetime, last_seen_at: datetime,
                 now: datetime) -> bool:
    if remembered:
        return created_at < now - _remember_lifetime()
    return last_seen_at < now - _session_lifetime()


# Logging in and out ----------------------------------------------------------------------


def start_session(user: User, *, remembered: bool, user_agent: str | None = None,
                  now: datetime | None = None) -> str:
    """A new login of `user` on this device; returns the key for the cookies (also left on
    `user`, for Flask-Login's login_user). The user's sessions that ran out are cleared."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    browser, system = describe_device(user_agent)
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id, _ran_out(now)))
    record = UserSession(user_id=user.id, key_hash=_digest(key), created_at=now, last_seen_at=now,
                         remembered=bool(remembered), browser=browser, system=system)
    db.session.add(record)
    db.session.flush()
    user.session_key, user.session_id, user.session_seen_at = key, record.id, now
    return key


def end_session(user: User, session_id: int | None) -> UserSession | None:
    """Log out one session of `user` (this one or another device); None when there is no such
    session of theirs. Flushes; the unit of work commits."""
    if session_id is None:
        return None
    record = db.session.scalar(sa.select(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id))
    if record is not None:
        db.session.delete(record)
        db.session.flush()
    return record


def end_all_sessions(user: User, *, keep: int | None = None) -> int:
    """Log out every session of `user` (their remember-me cookies die with them), but `keep`;
    returns how many ended. Flushes; the unit of work commits."""
    stmt = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def sessions_of(user: User) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    now = utcnow()
    return list(db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, sa.not_(_ran_out(now)))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


# Each request ------------------------------------------------------------------------------


@cache
def _load_statement() -> sa.Select:
    """The user, their memberships (each with its organization: every staff page asks for
    them) and the session, in one statement. Built once: every request runs it."""
    return (
        sa.select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at,
                  UserSession.remembered)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == sa.bindparam("key_hash"), User.is_active_account)
        .options(sa.orm.joinedload(User.memberships))
    )


def load(key: str | None, *, now: datetime | None = None) -> User | None:
    """The user whose live session the cookie's `key` names; None for a session that ended,
    ran out, or never was (or a deactivated account)."""
    if not key or len(key) > KEY_MAX_LENGTH:
        return None
    row = db.session.execute(_load_statement(), {"key_hash": _digest(key)}).unique().one_or_none()
    if row is None:
        return None
    user, session_id, created_at, last_seen_at, remembered = row
    if _has_run_out(remembered=remembered, created_at=created_at, last_seen_at=last_seen_at,
                    now=now or utcnow()):
        return None
    user.session_key, user.session_id, user.session_seen_at = key, session_id, last_seen_at
    return user


def needs_touch(user, *, now: datetime | None = None) -> bool:
    """True when the session of this request was last written down TOUCH_EVERY ago or more."""
    seen = getattr(user, "session_seen_at", None)
    return seen is not None and (now or utcnow()) - seen >= TOUCH_EVERY


def touch(user, *, now: datetime | None = None) -> None:
    """Write down that the session is in use now (joins the unit of work, which commits)."""
    now = now or utcnow()
    db.session.execute(sa.update(UserSession).where(UserSession.id == user.session_id)
                       .values(last_seen_at=now).execution_options(synchronize_session=False))
    user.session_seen_at = now


# What the account page shows -------------------------------------------------------------

# (pattern in the User-Agent, name shown), the first match wins: Edge and Opera also say
# "Chrome", Chrome also says "Safari".
_BROWSERS = [
    (r"Edg(e|A|iOS)?/", "Edge"), (r"OPR/|Opera", "Opera"), (r"SamsungBrowser/", "Samsung Internet"),
    (r"Firefox/|FxiOS/", "Firefox"), (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Version/[\d.]+.*Safari/", "Safari"),
]
_SYSTEMS = [
    (r"Android", "Android"), (r"iPhone|iPod", "iPhone"), (r"iPad", "iPad"),
    (r"Windows", "Windows"), (r"CrOS", "ChromeOS"), (r"Macintosh|Mac OS X", "macOS"),
    (r"Linux|X11", "Linux"),
]


def describe_device(user_agent: str | None) -> tuple[str, str]:
    """(browser, system) named from a User-Agent, e.g. ("Firefox", "Android"); "" when unknown.
    Only these names are kept, never the User-Agent itself."""
    text = (user_agent or "")[:500]
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, text)), "")
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, text)), "")
    return browser, system


def device_label(record: UserSession) -> str:
    """"Firefox on Android", in the reader's language."""
    if record.browser and record.system:
        return _("%(browser)s on %(system)s", browser=record.browser, system=record.system)
    return record.browser or record.system or _("Unknown device")
