"""Accounts: registration, passwords (argon2id), email verification, reset tokens, admins."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa

from marketplace.accounts.models import User, normalize_email
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.extensions import login_manager


class AccountError(DomainError):
    pass


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Verify, and re-hash transparently when the cost settings changed."""
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def validate_password(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise AccountError(_l("The password must have at least %(min)d characters.", min=minimum))
    if len(password) > 256:
        raise AccountError(_l("The password is too long (256 characters at most)."))


def get_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(*, email: str, name: str, password: str, locale: str = "fr", verified=False) -> User:
    validate_password(password)
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        locale=locale,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_admin(*, email: str, name: str, password: str) -> tuple[User, bool]:
    user = get_by_email(email)
    if user is not None:
        user.is_admin = True
        if not user.is_verified:
            user.email_verified_at = utcnow()
        return user, False
    user = create_user(email=email, name=name, password=password, verified=True)
    user.is_admin = True
    return user, True


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    raw_id, _, token = (user_id or "").partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.session_token != token:
        return None
    return user
