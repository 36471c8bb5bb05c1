"""The first worksheet of an .xlsx workbook as rows of text, read as a stream.

openpyxl (even read-only) spent 5.5 s of CPU on a 20,000-line sheet of six columns; reading the
sheet's XML with ElementTree's C parser takes under half a second (bench/RESULTS.md). What is
read: shared strings (rich text included), inline strings, numbers, booleans, formula results;
rows and cells placed by their references, so an empty row or cell stays empty. Anything this
reader does not find where the format puts it (a workbook without a relationship to its first
sheet, say) is handed to openpyxl, slower but thorough."""
from __future__ import annotations

import posixpath
import pyexpat
import re
import zipfile
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError, fromstring
from xml.etree.ElementTree import iterparse as _iterparse

_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


# ElementTree never fetches external entities, and expat 2.4.1+ stops entity amplification
# (billion laughs); the archive's unpacked size is capped by the caller.
if pyexpat.version_info < (2, 4, 1):  # pragma: no cover - Python 3.11 ships expat 2.5
    raise ImportError("expat 2.4.1 or later is needed to read uploaded workbooks safely")


def iterparse(handle):
    return _iterparse(handle)  # noqa: S314 - see above: no external entities, amplification capped


class NotUnderstood(Exception):
    """The workbook is laid out in a way this reader does not follow (use openpyxl)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # transitional and strict OOXML use different namespaces


def _column(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def number_text(value: str) -> str:
    """'45.5' -> '45.5', '1001' -> '1001', '12.499999999999998' -> '12.5': the number as a
    person typed it (Excel stores binary floating point)."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if number == number.to_integral_value():
        return str(int(number))
    return format(Decimal(repr(round(float(number), 9))).normalize(), "f")


def _first_sheet(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    try:
        with archive.open("xl/workbook.xml") as handle:
            sheet_rel = next((el.get(_REL) for _, el in iterparse(handle)
                              if _local(el.tag) == "sheet"), None)
        with archive.open("xl/_rels/workbook.xml.rels") as handle:
            targets = {el.get("Id"): el.get("Target") for _, el in iterparse(handle)
                       if _local(el.tag) == "Relationship"}
    except (KeyError, ParseError) as exc:
        raise NotUnderstood() from exc
    target = targets.get(sheet_rel)
    if not target:
        raise NotUnderstood()
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join("xl", target))
    if path not in names:
        raise NotUnderstood()
    return path


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    with archive.open("xl/sharedStrings.xml") as handle:
        for _, element in iterparse(handle):
            if _local(element.tag) == "si":
                strings.append(_text_of(element))
                element.clear()
    return strings


def _text_of(item) -> str:
    """A shared string: its text (t), or its runs of rich text (r/t); phonetic guides (rPh)
    of East Asian text are left out."""
    parts = []
    for child in item:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _cell_value(cell, strings: list[str]) -> str:
    kind = cell.get("t", "n")
    value = None
    for child in cell:
        name = _local(child.tag)
        if name == "v":
            value = child.text or ""
        elif name == "is":
            return _text_of(child)
    if value is None:
        return ""
    if kind == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError) as exc:
            raise NotUnderstood() from exc
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "n":
        return number_text(value)
    return value  # str (a formula's text), e (an error such as #N/A), d (an ISO date)


# A sheet's XML is read whole (ElementTree's C parser builds it without a Python call per
# element): 20,000 lines of six columns are about 5 MB. Larger sheets are refused.
MAX_SHEET_BYTES = 60 * 1024 * 1024


class TooLarge(Exception):
    """The sheet's XML is larger than MAX_SHEET_BYTES."""


def rows(archive: zipfile.ZipFile, *, max_rows: int) -> list[list[str]]:
    """The first sheet's rows, from row 1, each a list of cell texts, `max_rows` at most (the
    caller refuses a file that reaches it). Raises NotUnderstood when the layout is not the
    usual one, TooLarge, and ParseError on broken XML."""
    sheet = _first_sheet(archive)
    if archive.getinfo(sheet).file_size > MAX_SHEET_BYTES:
        raise TooLarge()
    strings = _shared_strings(archive)
    root = fromstring(archive.read(sheet))  # noqa: S314 - see above
    namespace = root.tag[: -len(_local(root.tag))]
    row_tag, cell_tag = namespace + "row", namespace + "c"
    found: list[list[str]] = []
    for element in root.iter(row_tag):
        number = int(element.get("r") or len(found) + 1)
        while len(found) < number - 1 and len(found) < max_rows:
            found.append([])  # rows with nothing in them are not written
        if len(found) >= max_rows:
            break
        cells: list[str] = []
        for position, cell in enumerate(element.iter(cell_tag)):
            match = _CELL_REF.match(cell.get("r") or "")
            index = _column(match.group(1)) if match else position
            if index > 16383:
                raise NotUnderstood()
            if index >= len(cells):
                cells.extend([""] * (index + 1 - len(cells)))
            cells[index] = _cell_value(cell, strings)
        found.append(cells)
    return found
