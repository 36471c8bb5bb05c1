"""Domain errors with human messages, and error pages in the site's layout."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from marketplace import redact, uow
from marketplace.db import LockTimeout, is_lock_timeout
from marketplace.i18n import lazy_gettext as _l


class DomainError(Exception):
    """An error a user can cause; its message is shown as-is (already translated/lazy)."""

    status_code = 400

    def __init__(self, message, *, status_code: int | None = None):
        # Kept lazy: translated when shown, not when raised (the session may be unusable then).
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to see this page."),
    404: _l("This page does not exist or was moved."),
    405: _l("This action is not allowed here."),
    413: _l("The file you sent is too large."),
    429: _l("Too many attempts. Please wait a little before trying again."),
    500: _l("Something went wrong on our side. The team has been told; please try again later."),
    503: _l("The service is busy, please try again in a moment."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def render_error(status: int, message=None):
    message = message or MESSAGES.get(status, MESSAGES[500])
    if _wants_json():
        return jsonify({"status": status, "message": str(message)}), status
    return render_template("errors/error.html", status=status, message=message), status


def _end_the_failed_unit() -> None:
    """A statement failed (a lock wait that timed out, a failed flush): the transaction cannot
    be used, nor committed. The request's unit ends here, rolled back, so that the error page
    can be rendered from a clean session (the layout may read the database)."""
    if uow.active():
        uow.finish(False)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(
            400, _l("The form expired or was sent without its security token. Please try again.")
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        # The answer is an error: the unit of work rolls back, unless the view kept what it
        # wrote (uow.keep: a counted failed attempt).
        return render_error(exc.status_code, exc.message)

    @app.errorhandler(LockTimeout)
    def lock_timeout(exc):
        _end_the_failed_unit()
        return render_error(503, _l("This item is busy right now, please try again."))

    @app.errorhandler(OperationalError)
    def operational_error(exc: OperationalError):
        # A lock wait that timed out in any statement (not only in lock_rows) is "busy" too.
        if is_lock_timeout(exc):
            return lock_timeout(exc)
        return unexpected_error(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code < 400:
            return exc
        if exc.code == 429:
            return render_error(429)
        body, status = render_error(exc.code or 500, None if exc.code in MESSAGES else exc.description)
        # A 405 says which methods the URL takes (RFC 9110), on the site and in the API alike.
        allowed = getattr(exc, "valid_methods", None)
        return body, status, {"Allow": ", ".join(allowed)} if allowed else {}

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        _end_the_failed_unit()
        app.logger.exception("Unhandled error on %s %s", request.method, redact.path(request.path))
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500)
