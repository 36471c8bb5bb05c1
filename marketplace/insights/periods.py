"""The dashboard's period picker: the last 7 days, 30 days, 12 months, or two dates."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.insights.queries import Period

CHOICES = ("7d", "30d", "12m", "custom")
DEFAULT = "30d"
MAX_DAYS = 3 * 366  # a custom period: three years at most
EARLIEST = date(2020, 1, 1)


class PeriodError(DomainError):
    pass


def months_back(today: date, months: int) -> date:
    """The first day of the month `months` months before today's."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def read_period(args: Mapping[str, str], today: date) -> tuple[str, Period]:
    """(the choice, its period) from the query string; PeriodError for what cannot be read."""
    choice = args.get("period", DEFAULT)
    if choice not in CHOICES:
        raise PeriodError(_l("Choose a period among those offered."))
    if choice == "7d":
        return choice, Period(today - timedelta(days=6), today)
    if choice == "30d":
        return choice, Period(today - timedelta(days=29), today)
    if choice == "12m":
        return choice, Period(months_back(today, 11), today)
    try:
        start = date.fromisoformat(args.get("start", "").strip())
        end = date.fromisoformat(args.get("end", "").strip())
    except ValueError as exc:
        raise PeriodError(_l("Give both dates of the period, for example 2026-03-01 and 2026-03-31.")) from exc
    if start > end:
        raise PeriodError(_l("The period's first day must come before its last day."))
    if start < EARLIEST or end > today:
        raise PeriodError(_l("The period must lie between 1 January 2020 and today."))
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(_l("A period lasts three years at most."))
    return choice, Period(start, end)
