"""Accounts: registration, passwords (argon2id), email verification, reset tokens, admins."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import format_timedelta
from sqlalchemy.exc import IntegrityError

from marketplace import audit, uow
from marketplace.accounts import sessions, tokens
from marketplace.accounts.models import User, normalize_email
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.extensions import login_manager
from marketplace.i18n import LazyText, lazy_text
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.urls import external_url

INVALID_CREDENTIALS = _l("The email address or password is incorrect.")


class AccountError(DomainError):
    """`field` names the form field the message belongs to, when there is one."""

    def __init__(self, message, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message, status_code=status_code)
        self.field = field


class EmailNotConfirmed(AccountError):
    """Right password, but the address is not confirmed yet (a new link was queued)."""


class InvalidToken(AccountError):
    """A link that is tampered with, expired or already used.

    `email` is set when the link was genuine but expired, so the page can offer a new one.
    """

    def __init__(self, message, *, email: str | None = None):
        super().__init__(message)
        self.email = email


# Passwords ---------------------------------------------------------------------------------


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


def validate_password(password: str, *, email: str | None = None) -> None:
    """The password policy; raises AccountError(field="password") with a message to show."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise AccountError(
            _l("The password must have at least %(min)d characters.", min=minimum), field="password"
        )
    if len(password) > 256:
        raise AccountError(
            _l("The password is too long (256 characters at most)."), field="password"
        )
    if email and password.strip().lower() == normalize_email(email):
        raise AccountError(_l("The password must not be your email address."), field="password")


# Users -------------------------------------------------------------------------------------


def get_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(
    *, email: str, name: str, password: str, locale: str = "fr", verified=False
) -> User:
    validate_password(password, email=email)
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
    """Flask-Login's loader: `user_id` is the key of a login (accounts.sessions), from the
    session cookie or the remember-me cookie. One statement per request."""
    return sessions.load(user_id)


def _supported_locale(locale: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


# Registration and email verification -------------------------------------------------------


def register(
    *, email: str, name: str, password: str, locale: str | None = None, next_path: str | None = None
) -> None:
    """Create an unverified account and email a confirmation link.

    `next_path` (a same-site path, e.g. an invitation page) is carried through the emailed
    link and the login, so the person lands back where they started.

    When the address already has an account, nothing is created and its owner is warned
    instead. Both paths look the same from outside (same result, same work, an email to the
    address), so the form never tells a stranger whether an address is registered.
    Returns nothing on purpose: the caller must not be able to behave differently.
    """
    validate_password(password, email=email)
    email = normalize_email(email)
    password_hash = hash_password(password)  # also when unused: same timing on both paths
    existing = get_by_email(email)
    if existing is None:
        user = User(
            email=email,
            name=name.strip(),
            password_hash=password_hash,
            locale=_supported_locale(locale),
        )
        try:
            with uow.savepoint():
                db.session.add(user)
        except IntegrityError:
            # Someone registered the same address a moment ago: treat it as already taken.
            existing = get_by_email(email)
            if existing is None:
                raise
        else:
            send_verification(user, next_path=next_path)
            return
    _warn_existing_owner(existing, next_path=next_path)


def _warn_existing_owner(user: User, *, next_path: str | None) -> None:
    queue_email(
        "account_exists",
        to=user.email,
        locale=user.locale,
        name=user.name,
        login_url=external_url("accounts.login", next=next_path),
        reset_url=external_url("accounts.forgot_password"),
    )


def send_verification(user: User, *, next_path: str | None = None) -> None:
    # The address is in the payload as a digest: the link dies if the address ever changes,
    # and the URL (which ends up in logs) does not show it.
    token = tokens.make(tokens.VERIFY_EMAIL, {"u": user.id, "e": tokens.digest(user.email)})
    queue_email(
        "account_verify",
        to=user.email,
        locale=user.locale,
        name=user.name,
        verify_url=external_url("accounts.verify_email", token=token, next=next_path),
        valid_for=_duration(current_app.config["EMAIL_VERIFICATION_MAX_AGE"]),
    )


def resend_verification(email: str) -> None:
    """Send a new confirmation link if this address has an account still waiting for it."""
    user = get_by_email(email)
    if user is not None and user.is_active_account and not user.is_verified:
        send_verification(user)


def verify_email(token: str) -> tuple[User, bool]:
    """Mark the address confirmed; returns (user, True when it was not confirmed before)."""
    payload = _read_token(
        tokens.VERIFY_EMAIL,
        token,
        max_age=current_app.config["EMAIL_VERIFICATION_MAX_AGE"],
        invalid_message=_l("This confirmation link is not valid or has expired."),
    )
    user = _user_from_payload(payload)
    if user is None or not tokens.matches(payload.get("e"), user.email):
        raise InvalidToken(_l("This confirmation link is not valid or has expired."))
    if user.is_verified:
        return user, False
    user.email_verified_at = utcnow()
    db.session.flush()
    return user, True


# Login -------------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User:
    """Check the credentials and record the login.

    Every refusal says the same thing, whatever was wrong, so the form does not reveal which
    addresses have an account. Only after a correct password does an unconfirmed account learn
    that it must confirm its address (and a new link is queued).
    """
    user = get_by_email(email)
    if user is None:
        hash_password(password or "")  # spend the same time as a real check
        raise AccountError(INVALID_CREDENTIALS)
    if not check_password(user, password or "") or not user.is_active_account:
        raise AccountError(INVALID_CREDENTIALS)
    if not user.is_verified:
        send_verification(user)
        raise EmailNotConfirmed(
            _l("Please confirm your email address first: we have just sent you a new link.")
        )
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# Password reset and change -----------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link if this address has an active account; silent otherwise."""
    user = get_by_email(email)
    if user is None or not user.is_active_account:
        return
    fingerprint = tokens.digest(user.password_hash)
    token = tokens.make(tokens.RESET_PASSWORD, {"u": user.id, "p": fingerprint})
    queue_email(
        "account_password_reset",
        to=user.email,
        locale=user.locale,
        name=user.name,
        reset_url=external_url("accounts.reset_password", token=token),
        valid_for=_duration(current_app.config["PASSWORD_RESET_MAX_AGE"]),
    )


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for; InvalidToken when tampered, expired or already used."""
    message = _l("This password reset link is not valid, has expired or was already used.")
    payload = _read_token(
        tokens.RESET_PASSWORD,
        token,
        max_age=current_app.config["PASSWORD_RESET_MAX_AGE"],
        invalid_message=message,
    )
    user = _user_from_payload(payload)
    # The fingerprint changes with the password, so a link dies once it has been used.
    if (
        user is None
        or not user.is_active_account
        or not tokens.matches(payload.get("p"), user.password_hash)
    ):
        raise InvalidToken(message)
    return user


def reset_password(token: str, *, new_password: str) -> User:
    """Set a new password from a reset link, log out every session, confirm the address."""
    user = user_for_reset_token(token)
    validate_password(new_password, email=user.email)
    _set_password(user, new_password)
    if not user.is_verified:
        user.email_verified_at = utcnow()  # the link proved they own the mailbox
    audit.record("account.password_reset", user, by=user)
    return user


def change_password(user: User, *, current_password: str, new_password: str,
                    keep_session_id: int | None = None) -> None:
    """Change the password of a logged-in user; every other session is logged out (the one
    they changed it from, `keep_session_id`, stays)."""
    if not check_password(user, current_password or ""):
        raise AccountError(_l("Your current password is incorrect."), field="current_password")
    validate_password(new_password, email=user.email)
    _set_password(user, new_password, keep_session_id=keep_session_id)
    audit.record("account.password_changed", user, by=user)


def _set_password(user: User, new_password: str, *, keep_session_id: int | None = None) -> None:
    user.password_hash = hash_password(new_password)
    db.session.flush()
    # Whoever knew the old password may be logged in somewhere: those sessions end, and their
    # remember-me cookies with them.
    sessions.end_all_sessions(user, keep=keep_session_id)
    queue_email(
        "account_password_changed",
        to=user.email,
        locale=user.locale,
        name=user.name,
        reset_url=external_url("accounts.forgot_password"),
        contact_email=current_app.config["PLATFORM_CONTACT_EMAIL"],
    )


# Profile -----------------------------------------------------------------------------------


def update_profile(user: User, *, name: str, locale: str) -> None:
    name = (name or "").strip()
    if not name:
        raise AccountError(_l("Please enter your name."), field="name")
    user.name = name[:120]
    user.locale = _supported_locale(locale)
    db.session.flush()


# Links ------------------------------------------------------------------------------------


def _read_token(purpose: str, token: str, *, max_age: int, invalid_message) -> dict[str, Any]:
    try:
        return tokens.read(purpose, token, max_age=max_age)
    except tokens.BadToken as exc:
        # A genuine but expired link still says whose it is: offer a new one to that address.
        user = _user_from_payload(exc.expired_payload or {})
        raise InvalidToken(invalid_message, email=user.email if user else None) from exc


def _user_from_payload(payload: dict[str, Any]) -> User | None:
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return None
    return db.session.get(User, user_id)


def _duration(seconds: int) -> LazyText:
    """'3 days', '1 hour'... rendered later, in the recipient's language."""
    return lazy_text(
        lambda: format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=False)
    )
