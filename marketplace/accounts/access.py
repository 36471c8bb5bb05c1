"""Who may see a page, for checks that are not about one organization."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from marketplace.extensions import login_manager


def admins_only():
    """A blueprint's before_request for the platform admins' pages (every /admin page): a
    visitor is sent to log in, anyone else who is not an admin gets a 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None
