"""What can be checked of an organization's SIRET, SIREN and RNA number without asking anyone,
what cannot, and where a person checks the rest (the public registries), for the admins who
review an application.

Offline, only the form is checked: the SIRET's 14 digits and its check digit (Luhn, with La
Poste's exception), the SIREN's check digit, the RNA number's shape (W and 9 digits; the RNA
has no check digit). That the organization exists, is active and is the one named in the
application is for the reviewer to see in the registries the links open.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from flask_babel import gettext as _
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from marketplace.organizations.models import Organization, OrganizationKind
from marketplace.organizations.validators import _RNA, in_alsace_moselle

DIRECTORY = "https://annuaire-entreprises.data.gouv.fr"
JOURNAL_OFFICIEL_SEARCH = "https://www.journal-officiel.gouv.fr/pages/associations-recherche/?q="


@dataclass
class Check:
    """One identifier: what was found (`state`: valid, invalid, missing or note), what was
    checked, what was not, and the registries where a person checks the rest."""

    state: str
    summary: str
    not_checked: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


def check_identity(organization: Organization) -> list[Check]:
    checks = _siret_checks(organization)
    if organization.kind == OrganizationKind.ASSOCIATION:
        checks.append(_rna_check(organization))
    return checks


def _directory_search(term: str) -> str:
    return f"{DIRECTORY}/rechercher?terme={quote(term)}"


def _siret_checks(organization: Organization) -> list[Check]:
    value = (organization.siret or "").strip()
    if not value:
        summary = (_("No SIRET given: an association without employees, VAT or subsidies may "
                     "have none.")
                   if organization.kind == OrganizationKind.ASSOCIATION else _("No SIRET given."))
        return [Check("missing", summary, links=[
            (_("Search the name in the public company directory"),
             _directory_search(organization.name))])]
    compact = stdnum_siret.compact(value)
    if not compact.isdigit():
        return [Check("invalid", _("SIRET %(number)s: not valid (a SIRET has digits only).",
                                   number=value))]
    if len(compact) != 14:
        return [Check("invalid", _("SIRET %(number)s: not valid (a SIRET has 14 digits, this "
                                   "one has %(count)d).", number=value, count=len(compact)))]
    siret_text, siren = stdnum_siret.format(compact), compact[:9]
    siren_text = stdnum_siren.format(siren)
    not_checked = _("Not checked: that the organization exists, is still active, and is the "
                    "one named in this application (name, address). The directory shows it.")
    links = [(_("Open the establishment (SIRET) in the public company directory"),
              f"{DIRECTORY}/etablissement/{compact}"),
             (_("Open the organization (SIREN) in the public company directory"),
              f"{DIRECTORY}/entreprise/{siren}")]
    siren_ok = stdnum_siren.is_valid(siren)
    if stdnum_siret.is_valid(compact):
        return [
            Check("valid", _("SIRET %(number)s: valid (14 digits, check digit right).",
                             number=siret_text), not_checked, links),
            Check("valid", _("SIREN %(number)s: valid (its check digit is right too).",
                             number=siren_text)),
        ]
    wrong = _("SIRET %(number)s: not valid (wrong check digit: a digit is mistyped or two are "
              "swapped).", number=siret_text)
    siren_check = (Check("valid", _("SIREN %(number)s: valid; the mistake is in the last 5 "
                                    "digits (the establishment number).", number=siren_text))
                   if siren_ok else
                   Check("invalid", _("SIREN %(number)s: not valid (wrong check digit).",
                                      number=siren_text)))
    return [Check("invalid", wrong, links=links[1:] if siren_ok else []), siren_check]


def _rna_check(organization: Organization) -> Check:
    value = (organization.rna or "").strip()
    name_search = (_("Search the name in the Journal officiel (associations)"),
                   JOURNAL_OFFICIEL_SEARCH + quote(organization.name))
    if not value:
        if in_alsace_moselle(organization.postcode):
            summary = (_("No RNA number: associations of Alsace-Moselle are not in the RNA; "
                         "their local register reference is %(reference)s.",
                         reference=organization.local_register)
                       if organization.local_register else
                       _("No RNA number: associations of Alsace-Moselle are not in the RNA, "
                         "and no local register reference was given."))
            return Check("note", summary, links=[name_search])
        return Check("missing", _("No RNA number given."), links=[name_search])
    if not _RNA.match(value):
        return Check("invalid", _("RNA number %(number)s: not valid (W followed by 9 digits "
                                  "expected, e.g. W691234567).", number=value),
                     links=[name_search])
    return Check(
        "valid", _("RNA number %(number)s: well formed (W followed by 9 digits).", number=value),
        _("Not checked: that the association exists under this name (an RNA number has no "
          "check digit). The Journal officiel lists its declaration."),
        [(_("Search the RNA number in the Journal officiel (associations)"),
          JOURNAL_OFFICIEL_SEARCH + quote(value)),
         (_("Search the RNA number in the public company directory"), _directory_search(value)),
         name_search])
