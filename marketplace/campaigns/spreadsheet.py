"""Reading a beneficiaries spreadsheet: CSV (comma or semicolon; UTF-8 with or without a
byte-order mark, or Windows-1252 as French Excel saves it) or XLSX. Columns are recognised by
their French or English header, in any order. The result is text, cell by cell: the checks of
each line are in importing.py."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_decimal

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l

FIELDS = ("last_name", "first_name", "email", "amount", "employee_number", "children")

# Headers, written as normalise() leaves them (lower case, no accent, words of letters/digits).
HEADERS = {
    "last_name": {"nom", "nom de famille", "last name", "lastname", "surname", "family name",
                  "nom salarie", "nom du salarie"},
    "first_name": {"prenom", "first name", "firstname", "given name", "prenom salarie",
                   "prenom du salarie"},
    "email": {"email", "e mail", "courriel", "mail", "adresse email", "adresse e mail",
              "adresse mail", "adresse electronique", "email address", "e mail address",
              "adresse courriel"},
    "amount": {"montant", "amount", "montant eur", "montant en euros", "amount eur", "valeur",
               "value", "montant de la carte", "card amount"},
    "employee_number": {"matricule", "employee number", "employee id", "numero de salarie",
                        "n salarie", "no salarie", "numero salarie", "staff number",
                        "numero matricule", "employee no"},
    "children": {"nombre d enfants", "enfants", "children", "number of children", "nb enfants",
                 "nombre enfants", "nbre d enfants", "kids"},
}
_FIELD_BY_HEADER = {header: name for name, headers in HEADERS.items() for header in headers}


class SpreadsheetError(DomainError):
    """The file cannot be read as a list of beneficiaries (a 4xx with the reason)."""


@dataclass
class Sheet:
    headers: list[str]  # as written in the file
    fields: list[str | None]  # the recognised field of each column, None when unknown
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells as text)


def normalise(header: str) -> str:
    text = unicodedata.normalize("NFKD", header or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\((?:€|eur|euros?)\)|€", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def field_of(header: str) -> str | None:
    return _FIELD_BY_HEADER.get(normalise(header))


def read(data: bytes, filename: str, *, max_lines: int) -> Sheet:
    """The header and the lines of a CSV or XLSX file; SpreadsheetError when it cannot be read
    or holds more than `max_lines` lines."""
    if not data or not data.strip():
        raise SpreadsheetError(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(data, max_lines=max_lines)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(_l("This is an old Excel file (.xls): save it as .xlsx or as CSV "
                                  "and send it again."))
    else:
        table = _csv_rows(_decode(data), max_lines=max_lines)
    return _sheet(table, max_lines=max_lines)


def _decode(data: bytes) -> str:
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


def _csv_rows(text: str, *, max_lines: int) -> list[list[str]]:
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first))
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > max_lines + 1 + 50:  # the header, and some empty lines at the end
                _too_many(max_lines)
    except csv.Error as exc:
        raise SpreadsheetError(_l("The CSV file could not be read (line %(line)s): check that it "
                                  "was saved as CSV.", line=reader.line_num)) from exc
    return rows


def _xlsx_rows(data: bytes, *, max_lines: int) -> list[list[str]]:
    from marketplace.campaigns import xlsx

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > 200 * 1024 * 1024:
            raise SpreadsheetError(_l("This Excel file is too large once opened."), status_code=413)
        limit = max_lines + 1 + 50  # the header, and some empty lines at the end
        rows = xlsx.rows(archive, max_rows=limit + 1)
    except SpreadsheetError:
        raise
    except xlsx.TooLarge as exc:
        raise SpreadsheetError(_l("This Excel file is too large once opened."),
                               status_code=413) from exc
    except xlsx.NotUnderstood:
        rows = _openpyxl_rows(data, max_lines=max_lines)
    except Exception as exc:  # noqa: BLE001 - a broken zip or XML, whatever its kind
        raise SpreadsheetError(_l("This file is neither a CSV nor an Excel (.xlsx) "
                                  "spreadsheet.")) from exc
    if len(rows) > limit:
        _too_many(max_lines)
    return rows


def _openpyxl_rows(data: bytes, *, max_lines: int) -> list[list[str]]:
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
                _too_many(max_lines)
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


def _too_many(max_lines: int):
    raise SpreadsheetError(_l("The file has more than %(max)s lines: split it into several "
                              "campaigns.", max=format_decimal(max_lines)),
                           status_code=413)


def _sheet(table: list[list[str]], *, max_lines: int) -> Sheet:
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
        _too_many(max_lines)
    if not body:
        raise SpreadsheetError(_l("The file has a header but no beneficiary."))
    rows = [(start + 2 + i, (row + [""] * width)[:width]) for i, row in enumerate(body)]
    return Sheet(headers=headers, fields=[field_of(header) for header in headers], rows=rows)
