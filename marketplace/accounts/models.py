"""Users: people who shop, staff sellers or works councils, and platform admins."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db


def _new_session_token() -> str:
    return secrets.token_urlsafe(16)


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
    # Part of the login cookie: rotating it (password change or reset) logs out every other session.
    session_token: Mapped[str] = mapped_column(sa.String(32), default=_new_session_token)

    memberships = relationship(
        "Membership", back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:  # Flask-Login
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = _new_session_token()

    def membership_in(self, organization_id: int):
        return next((m for m in self.memberships if m.organization_id == organization_id), None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()
