"""Users: people who shop, staff sellers or works councils, and platform admins."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased and stripped; compare with normalize_email().
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active_account: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr", server_default="fr")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships = relationship(
        "Membership", back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    # The login this object was loaded for (set by accounts.sessions, never stored here): its
    # key goes in the session and remember-me cookies, its id lets the account end it.
    session_key = None  # str: the cookie's key
    session_id = None  # int: UserSession.id
    session_seen_at = None  # datetime: its last_seen_at as loaded

    def get_id(self) -> str:  # Flask-Login: what the cookies hold
        if not self.session_key:
            raise RuntimeError("log the user in through accounts.sessions.start_session")
        return self.session_key

    # Two objects are the same user when they are the same account (Flask-Login's UserMixin
    # compares get_id(), which names a login, not an account).
    def __eq__(self, other):
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def membership_in(self, organization_id: int):
        return next((m for m in self.memberships if m.organization_id == organization_id), None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class UserSession(db.Model):
    """One login on one device. The session cookie (and the remember-me cookie) hold a random
    key; only its SHA-256 is stored, and the key opens the account only while this row exists:
    logging out deletes it, "log out of every device" and a new password delete them all."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Written at most every few minutes (accounts.sessions.TOUCH_EVERY), never on each request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "Stay logged in": the session lives as long as the remember-me cookie, not the browser's.
    remembered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # What the account page shows ("Firefox on Android"), read from the User-Agent at login.
    browser: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    system: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
