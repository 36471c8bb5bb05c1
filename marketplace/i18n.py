"""Language choice (French by default, English available) and locale-aware Jinja filters."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g, request
from flask_babel import format_date, format_datetime, get_locale, gettext, ngettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup, escape

from marketplace.money import format_money

LANG_COOKIE = "lang"


class LazyText(LazyString):
    """A message translated when it is shown, which HTML treats as text.

    flask-babel's LazyString answers `__html__` with its text as it is, so Jinja, WTForms
    labels and Flask's flashed messages took every lazy message for safe markup, and the user
    text interpolated into it (`_l("How many “%(title)s”", title=...)`) reached the page raw
    (flask-babel issue #224). Here the whole message is escaped when HTML asks for it; str()
    and JSON give the plain text. No lazy message carries markup of its own."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(string: str, **variables) -> LazyText:
    """`_l`: what every module imports instead of flask_babel.lazy_gettext (ruff bans that)."""
    return LazyText(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables) -> LazyText:
    return LazyText(ngettext, singular, plural, num, **variables)


def lazy_text(function, *args, **kwargs) -> LazyText:
    """Any text computed when shown (a duration in the reader's language...), escaped in HTML."""
    return LazyText(function, *args, **kwargs)


def select_locale() -> str:
    """The user's saved language, else the language cookie, else French."""
    languages = current_app.config["LANGUAGES"]
    forced = getattr(g, "forced_locale", None)
    if forced in languages:
        return forced
    if request:
        user = current_user if _has_user() else None
        if user is not None and user.is_authenticated and user.locale in languages:
            return user.locale
        cookie = request.cookies.get(LANG_COOKIE)
        if cookie in languages:
            return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _has_user() -> bool:
    try:
        return current_user is not None
    except Exception:  # noqa: BLE001 - no login manager outside a request
        return False


def current_locale_code() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def money_filter(cents: int | None, currency: str = "EUR") -> str:
    if cents is None:
        return ""
    return format_money(int(cents), locale=_babel_locale(), currency=currency)


def _babel_locale() -> str:
    return {"fr": "fr_FR", "en": "en_GB"}.get(current_locale_code(), current_locale_code())


def datetime_filter(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def date_filter(value: date | datetime | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def init_app(app: Flask) -> None:
    _json_default = app.json.default

    def json_default(value):
        # JSON carries text, not HTML: a lazy message is its plain text there.
        if isinstance(value, LazyString):
            return str(value)
        return _json_default(value)

    app.json.default = json_default
    app.jinja_env.filters["money"] = money_filter
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter

    @app.context_processor
    def inject_i18n():
        return {
            "current_locale": current_locale_code(),
            "languages": app.config["LANGUAGES"],
        }
