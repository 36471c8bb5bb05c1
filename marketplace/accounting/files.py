"""The files an accountant imports: the FEC (fichier des écritures comptables, article A47 A-1
of the Livre des procédures fiscales: 18 columns, tab-separated, dates YYYYMMDD, amounts with a
decimal comma) and the period's summary as a spreadsheet (semicolons, byte-order mark, decimal
comma). Both are French files, written in French whatever the reader's language."""
from __future__ import annotations

import re

from flask_babel import force_locale
from stdnum.fr import siret

from marketplace import exports
from marketplace.accounting.journal import JOURNALS, Journal, Summary
from marketplace.errors import DomainError
from marketplace.i18n import format_rate
from marketplace.i18n import lazy_gettext as _l

FEC_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)
FEC_SEPARATOR = "\t"
_UNSAFE = re.compile(r"[\t|\r\n]+")


class FecError(DomainError):
    status_code = 409


def fec_amount(cents: int) -> str:
    """1234,50: no thousands separator, a decimal comma, always two decimals."""
    units, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{units},{rest:02d}"


def _text(value: str) -> str:
    return _UNSAFE.sub(" ", value or "").strip()


def siren_of(organization) -> str:
    if not organization.siret or not siret.is_valid(organization.siret):
        raise FecError(_l("A FEC file is named after your SIREN: add your SIRET to your "
                          "organization's details first."))
    return siret.compact(organization.siret)[:9]


def fec_filename(result: Journal) -> str:
    """SIREN + FEC + the closing day of the period: 912345675FEC20261231.txt."""
    return f"{siren_of(result.organization)}FEC{result.period.end:%Y%m%d}.txt"


def _rate(rate_bp: int) -> str:
    units, rest = divmod(rate_bp, 100)
    return f"{units},{rest:02d}".rstrip("0").rstrip(",") + " %"


def line_label(entry, line) -> str:
    """The entry's label, with the VAT rate on its sales and VAT lines."""
    if line.account_field in ("sales_account", "vat_collected_account") \
            and line.vat_rate_bp:
        return f"{entry.label} - TVA {_rate(line.vat_rate_bp)}"
    if line.account_field in ("commission_account", "vat_deductible_account"):
        return f"{entry.label} - commission"
    return entry.label


def fec_rows(result: Journal) -> list[list[str]]:
    rows = []
    for entry in result.entries:
        day = f"{entry.day:%Y%m%d}"
        for line in entry.lines:
            rows.append([
                entry.journal, JOURNALS[entry.journal], str(entry.number), day,
                line.account, line.account_label, "", "", _text(entry.piece), day,
                _text(line_label(entry, line)), fec_amount(line.debit_cents),
                fec_amount(line.credit_cents), "", "", day, "", "",
            ])
    return rows


def fec_text(result: Journal) -> str:
    """The FEC of the period: a header line, then one line per account of each entry."""
    lines = [FEC_SEPARATOR.join(FEC_COLUMNS)]
    lines += [FEC_SEPARATOR.join(row) for row in fec_rows(result)]
    return "\r\n".join(lines) + "\r\n"


# --- the summary as a spreadsheet --------------------------------------------------------------

def summary_rows(result: Journal, figures: Summary) -> tuple[list[str], list[list[str]]]:
    """Heading and rows: each kind of operation by VAT rate (before VAT, VAT, including VAT),
    then the commission, the cards given, the payouts."""
    with force_locale("fr"):
        return _summary_rows(result, figures)


def _summary_rows(result: Journal, figures: Summary):
    amount = exports.amount
    header = [str(_l("Operation")), str(_l("VAT rate")), str(_l("Excl. VAT (€)")),
              str(_l("VAT (€)")), str(_l("Incl. VAT (€)"))]
    rows = [[str(_l("Period from %(start)s to %(end)s", start=exports.local_date(
        result.period.start), end=exports.local_date(result.period.end))), "", "", "", ""]]
    for label, table in ((_l("Online sales"), figures.sales),
                         (_l("Gift cards spent at your counter"), figures.cards),
                         (_l("Refunds to shoppers"), figures.refunds)):
        for rate, (ht, vat) in sorted(table.items(), reverse=True):
            rows.append([str(label), format_rate(rate), amount(ht), amount(vat),
                         amount(ht + vat)])
    commission_ht = figures.commission_cents - figures.commission_vat_cents
    rows.append([str(_l("Platform commission (net of refunds)")), "", amount(commission_ht),
                 amount(figures.commission_vat_cents), amount(figures.commission_cents)])
    rows.append([str(_l("Gift cards given to you")), "", "", "",
                 amount(figures.donations_cents)])
    rows.append([str(_l("Payouts to your bank account")), "", "", "",
                 amount(figures.payouts_cents)])
    rows.append([str(_l("Owed to you for the period, before payouts")), "", "", "",
                 amount(figures.net_cents)])
    return header, rows


def summary_csv(result: Journal, figures: Summary) -> str:
    header, rows = summary_rows(result, figures)
    return exports.csv_text(header, rows)
