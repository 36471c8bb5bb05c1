"""Language choice (French by default, English available) and locale-aware Jinja filters.

Dates, times and rates are written one way in each language, through the helpers below, in
pages, emails, PDFs and flashes alike:
- French: "mercredi 1er décembre 2026", "9 déc. 2026", one clock "14 h 00";
- English (British usage, day before month): "Wednesday 1 December 2026", "9 Dec 2026", "14:00".
CSV exports keep "09/12/2026 14:00", which spreadsheets read as a date and a time."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from flask import Flask, current_app, g, request
from flask_babel import format_date, format_time, get_locale, gettext, ngettext, to_user_timezone
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


# Date styles, the same in both languages (British English puts the day first, as French does).
# Babel's own "short"/"medium" styles are not used: they follow the US in English and add
# seconds to times.
DATE_STYLES = {
    "short": "dd/MM/y",  # 09/12/2026 (tables)
    "medium": "d MMM y",  # 9 déc. 2026 / 9 Dec 2026
    "long": "d MMMM y",  # 9 décembre 2026 / 9 December 2026
    "full": "EEEE d MMMM y",  # mercredi 9 décembre 2026 / Wednesday 9 December 2026
    "day": "EEEE d MMMM",  # mercredi 9 décembre (a slot in the coming weeks)
    "short_day": "EEE d MMM",  # mer. 9 déc. (a slot in a list)
}
FRENCH_CLOCK = "H\u202f'h'\u202fmm"  # 9 h 05, 14 h 00 (narrow no-break spaces)
ENGLISH_CLOCK = "HH:mm"  # 09:05, 14:00
_DAY_OF_MONTH = re.compile(r"(?<![d'])d(?!d)")


def _date_pattern(style: str, day: int) -> str:
    pattern = DATE_STYLES.get(style, style)
    if current_locale_code() != "fr" or "MMM" not in pattern:
        return pattern
    if day == 1:  # le 1er décembre
        pattern = _DAY_OF_MONTH.sub("'1er'", pattern)
    return re.sub(r"(d|'1er') MMM", "\\1\u00a0MMM", pattern)  # 9 décembre on one line


def local_zone() -> ZoneInfo:
    """The marketplace's time zone (BABEL_DEFAULT_TIMEZONE, Europe/Paris), the one of its
    days: a pickup day, an invoice's date, a campaign's sending day, a statement's month."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    """Today where the marketplace is, not the server's UTC date (from 23:00 UTC in winter,
    22:00 in summer, Paris is already on the next day)."""
    return (now or datetime.now(UTC)).astimezone(local_zone()).date()


def format_day(value: date | datetime, style: str = "long") -> str:
    """A date (a datetime in the reader's timezone) in one of DATE_STYLES, or a Babel pattern."""
    local = to_user_timezone(value) if isinstance(value, datetime) else value
    return format_date(local, _date_pattern(style, local.day), rebase=False)


def format_clock(value: datetime | time) -> str:
    """14 h 00 in French, 14:00 in English (a datetime in the reader's timezone)."""
    pattern = FRENCH_CLOCK if current_locale_code() == "fr" else ENGLISH_CLOCK
    if isinstance(value, datetime):
        value = to_user_timezone(value)
    return format_time(value, pattern, rebase=False)


def format_moment(value: datetime, style: str = "medium") -> str:
    """A date and its time: "9 déc. 2026 à 14 h 00", "9 Dec 2026 at 14:00"."""
    return gettext("%(date)s at %(time)s", date=format_day(value, style),
                   time=format_clock(value))


def format_period(starts: datetime, ends: datetime, style: str = "day") -> str:
    """A slot: "mercredi 9 décembre, de 14 h 00 à 16 h 00"; over two days, "du mercredi 9
    décembre à 22 h 00 au jeudi 10 décembre à 2 h 00"."""
    if format_day(starts, "short") == format_day(ends, "short"):
        return gettext("%(day)s, %(start)s to %(end)s", day=format_day(starts, style),
                       start=format_clock(starts), end=format_clock(ends))
    return gettext("from %(start)s to %(end)s", start=format_moment(starts, style),
                   end=format_moment(ends, style))


def format_rate(basis_points: int) -> str:
    """500 -> "5 %", 550 -> "5,5 %" in French ("5%", "5.5%" in English)."""
    return format_percent(Decimal(basis_points).scaleb(-4), locale=_babel_locale(),
                          decimal_quantization=False)


def datetime_filter(value: datetime | None, style: str = "medium") -> str:
    return format_moment(value, style) if value else ""


def date_filter(value: date | datetime | None, style: str = "medium") -> str:
    return format_day(value, style) if value else ""


def time_filter(value: datetime | time | None) -> str:
    return format_clock(value) if value else ""


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
    app.jinja_env.filters["time"] = time_filter
    app.jinja_env.filters["rate"] = format_rate
    app.jinja_env.globals["period"] = format_period

    @app.context_processor
    def inject_i18n():
        return {
            "current_locale": current_locale_code(),
            "languages": app.config["LANGUAGES"],
        }
