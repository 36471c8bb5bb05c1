"""Reading an uploaded spreadsheet: CSV (comma, semicolon or tab; UTF-8 with or without a
byte-order mark, or Windows-1252 as French Excel saves it) or XLSX (marketplace/xlsx.py, openpyxl
for the layouts it does not follow). The result is text, cell by cell, with each column's field
as the caller recognises its header: the checks of each line belong to the caller (the
campaigns' beneficiaries, the catalogue's products)."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from marketplace import xlsx
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l

# What an .xlsx may unpack to (a zip bomb is refused before it is read).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


class SpreadsheetError(DomainError):
    """The file cannot be read as a table (a 4xx with the reason)."""


@dataclass
class Sheet:
    headers: list[str]  # as written in the file
    fields: list[str | None]  # the recognised field of each column, None when unknown
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells as text)


def normalise(header: str) -> str:
    """'Prix (€)' -> 'prix', 'Référence' -> 'reference': how headers are compared."""
    text = unicodedata.normalize("NFKD", header or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\((?:€|eur|euros?)\)|€|%", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def read(data: bytes, *, max_lines: int, field_of: Callable[[str], str | None],
         too_many, no_lines) -> Sheet:
    """The header and the lines of a CSV or XLSX file; SpreadsheetError when it cannot be read,
    holds more than `max_lines` lines (message `too_many`, with %(max)s) or none (`no_lines`)."""
    if not data or not data.strip():
        raise SpreadsheetError(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(data, max_lines=max_lines, too_many=too_many)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(_l("This is an old Excel file (.xls): save it as .xlsx or as CSV "
                                  "and send it again."))
    else:
        table = _csv_rows(decode(data), max_lines=max_lines, too_many=too_many)
    return _sheet(table, max_lines=max_lines, field_of=field_of, too_many=too_many,
                  no_lines=no_lines)


def decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) spreadsheet."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # what French Excel writes as "CSV (separator: ;)"
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) "
                                      "spreadsheet.")) from exc
    controls = sum(1 for c in text[:4096] if unicodedata.category(c) == "Cc" and c not in "\r\n\t")
    if controls > 8:
        raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) spreadsheet."))
    return text


def _separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def _csv_rows(text: str, *, max_lines: int, too_many) -> list[list[str]]:
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first))
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > max_lines + 1 + 50:  # the header, and some empty lines at the end
                _too_many(max_lines, too_many)
    except csv.Error as exc:
        raise SpreadsheetError(_l("The CSV file could not be read (line %(line)s): check that it "
                                  "was saved as CSV.", line=reader.line_num)) from exc
    return rows


def _xlsx_rows(data: bytes, *, max_lines: int, too_many) -> list[list[str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise SpreadsheetError(_l("This Excel file is too large once opened."), status_code=413)
        limit = max_lines + 1 + 50  # the header, and some empty lines at the end
        rows = xlsx.rows(archive, max_rows=limit + 1)
    except SpreadsheetError:
        raise
    except xlsx.TooLarge as exc:
        raise SpreadsheetError(_l("This Excel file is too large once opened."),
                               status_code=413) from exc
    except xlsx.NotUnderstood:
        rows = _openpyxl_rows(data, max_lines=max_lines, too_many=too_many)
    except Exception as exc:  # noqa: BLE001 - a broken zip or XML, whatever its kind
        raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) "
                                  "spreadsheet.")) from exc
    if len(rows) > limit:
        _too_many(max_lines, too_many)
    return rows


def _openpyxl_rows(data: bytes, *, max_lines: int, too_many) -> list[list[str]]:
    """openpyxl reads what the streaming reader does not follow (slower, thorough)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) "
                                  "spreadsheet.")) from exc
    try:
        if not book.worksheets:
            raise SpreadsheetError(_l("The file is empty."))
        rows = []
        for values in book.worksheets[0].iter_rows(values_only=True):
            rows.append([_cell_text(value) for value in values])
            if len(rows) > max_lines + 1 + 50:
                _too_many(max_lines, too_many)
        return rows
    finally:
        book.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # 12.5 -> "12.5", 1234.0 -> "1234" (an employee number typed as a number)
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _too_many(max_lines: int, message):
    from flask_babel import format_decimal

    raise SpreadsheetError(str(message) % {"max": format_decimal(max_lines)}, status_code=413)


def _sheet(table: list[list[str]], *, max_lines: int, field_of, too_many, no_lines) -> Sheet:
    table = [[cell.strip() for cell in row] for row in table]
    start = next((i for i, row in enumerate(table) if any(row)), None)
    if start is None:
        raise SpreadsheetError(_l("The file is empty."))
    headers = table[start]
    body = table[start + 1:]
    width = max([len(headers), *(len(row) for row in body)])
    # Trailing empty columns (Excel keeps a few) are dropped: no header and nothing below.
    while width and not (len(headers) >= width and headers[width - 1]) and not any(
            len(row) >= width and row[width - 1] for row in body):
        width -= 1
    headers = (headers + [""] * width)[:width]
    while body and not any(body[-1]):
        body.pop()  # empty lines at the end
    if len(body) > max_lines:
        _too_many(max_lines, too_many)
    if not body:
        raise SpreadsheetError(no_lines)
    rows = [(start + 2 + i, (row + [""] * width)[:width]) for i, row in enumerate(body)]
    return Sheet(headers=headers, fields=[field_of(header) for header in headers], rows=rows)
