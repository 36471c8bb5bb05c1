"""French legal identifiers and address fields: clean a user's input or say clearly what is wrong.

The `clean_*` functions are the single source of truth: the services call them before saving,
and the WTForms validators below wrap them so the same message appears on the form field.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret
from wtforms.validators import ValidationError

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l

# W + 9 digits; Corsican departments write 2A and 2B where others write two digits.
_RNA = re.compile(r"^W(?:\d{9}|2[AB]\d{7})$")
_POSTCODE = re.compile(r"^\d{5}$")
# The three departments of Alsace-Moselle keep the local law of associations (no RNA number).
ALSACE_MOSELLE_DEPARTMENTS = ("57", "67", "68")


class OrganizationError(DomainError):
    """A rule of the organizations domain was broken; `field` names the form field it is about."""

    def __init__(self, message, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message, status_code=status_code)
        self.field = field


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def clean_siret(value: str | None) -> str | None:
    """14 digits (spaces, dots and dashes are dropped), Luhn-checked with the La Poste exception."""
    if _blank(value):
        return None
    try:
        return stdnum_siret.validate(value)
    except StdnumError:
        raise OrganizationError(
            _l("This SIRET is not valid: check the 14 digits."), field="siret"
        ) from None


def clean_rna(value: str | None) -> str | None:
    """An RNA number: W followed by 9 digits, stored in capitals."""
    if _blank(value):
        return None
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if not _RNA.match(compact):
        raise OrganizationError(
            _l("This RNA number is not valid: it is a W followed by 9 digits (e.g. W691234567)."),
            field="rna",
        )
    return compact


def clean_postcode(value: str | None) -> str:
    compact = (value or "").replace(" ", "")
    if not _POSTCODE.match(compact):
        raise OrganizationError(_l("A postcode has 5 digits."), field="postcode")
    return compact


def clean_website(value: str | None) -> str | None:
    """An http(s) address; "www.example.org" gets https:// in front. Anything else is refused
    (a javascript: link on the public page would run in the visitor's browser)."""
    if _blank(value):
        return None
    value = value.strip()
    if "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in value:
        raise OrganizationError(
            _l("This web address is not valid (e.g. https://www.example.org)."), field="website"
        )
    return value


def in_alsace_moselle(postcode: str | None) -> bool:
    return bool(postcode) and postcode[:2] in ALSACE_MOSELLE_DEPARTMENTS


class Cleaned:
    """WTForms validator running one of the clean_* functions above."""

    def __init__(self, cleaner):
        self.cleaner = cleaner

    def __call__(self, form, field) -> None:
        try:
            self.cleaner(field.data)
        except OrganizationError as exc:
            raise ValidationError(str(exc.message)) from None
