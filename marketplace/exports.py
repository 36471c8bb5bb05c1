"""Spreadsheet exports: CSV files that Excel and LibreOffice open right in the reader's language
(semicolons, a byte-order mark, the language's decimal sign and dates), whose cells never run
as formulas."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from babel.numbers import get_decimal_symbol
from flask import Response
from flask_babel import to_user_timezone

from marketplace.i18n import current_locale_code

# Cells starting with these are run as formulas by spreadsheets: a shopper's name must not be.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _babel_locale() -> str:
    # The regional variants the money filter uses: day-first dates in English too.
    code = current_locale_code()
    return {"fr": "fr_FR", "en": "en_GB"}.get(code, code)


def cell(value) -> str:
    """Text as a spreadsheet shows it, never a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_date(value: date | datetime | None) -> str:
    """05/12/2026 in French and in English (a datetime is first put in local time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return babel_format_date(value, "short", locale=_babel_locale())


def local_datetime(value: datetime | None) -> str:
    """05/12/2026 14:02, local time: one cell a spreadsheet reads as a date and time."""
    if value is None:
        return ""
    local = to_user_timezone(value)
    return f"{local_date(local)} {local:%H:%M}"


def amount(cents: int | None) -> str:
    """-1234,50 in French, -1234.50 in English: a number a spreadsheet adds up (no currency
    sign, no thousands separator)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{units}{get_decimal_symbol(_babel_locale())}{rest:02d}"


def csv_text(header: Sequence, rows: Iterable[Sequence]) -> str:
    """Semicolon-separated (Excel's separator in French), with a byte-order mark so that
    Excel reads UTF-8. Header and cells are written as given: amounts and dates already
    formatted, user text passed through cell()."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def csv_response(header: Sequence, rows: Iterable[Sequence], *, filename: str) -> Response:
    return Response(csv_text(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
