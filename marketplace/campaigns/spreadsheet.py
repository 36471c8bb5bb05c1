"""Reading a beneficiaries spreadsheet: CSV (comma or semicolon; UTF-8 with or without a
byte-order mark, or Windows-1252 as French Excel saves it) or XLSX, read by
marketplace/spreadsheets.py. Columns are recognised by
their French or English header, in any order. The result is text, cell by cell: the checks of
each line are in importing.py."""
from __future__ import annotations

from marketplace import spreadsheets
from marketplace.i18n import lazy_gettext as _l
from marketplace.spreadsheets import Sheet, SpreadsheetError, normalise

__all__ = ["FIELDS", "HEADERS", "Sheet", "SpreadsheetError", "field_of", "normalise", "read"]

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


def field_of(header: str) -> str | None:
    return _FIELD_BY_HEADER.get(normalise(header))


def read(data: bytes, filename: str, *, max_lines: int) -> Sheet:
    """The header and the lines of a CSV or XLSX file (marketplace/spreadsheets.py);
    SpreadsheetError when it cannot be read or holds more than `max_lines` lines."""
    return spreadsheets.read(
        data, max_lines=max_lines, field_of=field_of,
        too_many=_l("The file has more than %(max)s lines: split it into several campaigns."),
        no_lines=_l("The file has a header but no beneficiary."))
