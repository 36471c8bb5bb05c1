"""Where a user lands after logging in when no page was asked for.

Accounts knows nothing of the domains above it: a higher domain (organizations: the staff's
counter or overview) registers a landing function on the app when its blueprint is registered.
Each function takes the user and returns a URL or None; the first URL wins, and None from all
keeps the caller's default (the home page)."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

Landing = Callable[[object], "str | None"]

EXTENSION = "accounts.landings"


def register_landing(app: Flask, landing: Landing) -> None:
    """Add `landing` to the app's after-login landings (in registration order)."""
    landings = app.extensions.setdefault(EXTENSION, [])
    if landing not in landings:
        landings.append(landing)


def landing_url(user) -> str | None:
    """The first URL a registered landing gives for `user`, else None."""
    for landing in current_app.extensions.get(EXTENSION, ()):
        url = landing(user)
        if url:
            return url
    return None
