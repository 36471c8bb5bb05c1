"""A seller's accounting settings: its accounts (defaults from the associations' chart of
accounts until it changes them), the VAT rate of what it sells for gift cards at its counter,
and its VAT number."""
from __future__ import annotations

import re
from collections.abc import Mapping

from stdnum.eu import vat

from marketplace import audit
from marketplace.accounting.models import ACCOUNT_FIELDS, DEFAULT_ACCOUNTS, AccountingSettings
from marketplace.db import db, lock_rows
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.models import Organization

# The French VAT rates (basis points): standard, intermediate, reduced, special; 0 for none.
VAT_RATES_BP = (2000, 1000, 550, 210, 0)
# What each account must start with, in the chart of accounts' classes.
ACCOUNT_CLASSES = {
    "sales_account": ("70",),
    "vat_collected_account": ("445",),
    "commission_account": ("62",),
    "vat_deductible_account": ("445",),
    "platform_account": ("4", "5"),  # 467 the platform, or 511 / 5115 a clearing account
    "gift_card_account": ("4", "5"),
    "donation_account": ("75",),
    "bank_account": ("5",),
}
ACCOUNT_NUMBER = re.compile(r"\d{3,12}")


class SettingsError(DomainError):
    """Settings refused: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict):
        super().__init__(_l("Some settings are not valid: see the messages under the fields."))
        self.errors = errors


def settings_of(organization) -> AccountingSettings:
    """The seller's settings, or the defaults (not saved) while it has changed none."""
    found = db.session.get(AccountingSettings, organization.id)
    if found is not None:
        return found
    return AccountingSettings(organization_id=organization.id, counter_vat_rate_bp=0
                              if organization.vat_exempt else 2000, vat_number=None,
                              **DEFAULT_ACCOUNTS)


def _account_error(name: str, value: str):
    if not ACCOUNT_NUMBER.fullmatch(value):
        return _l("An account number is 3 to 12 digits, nothing else (for example 467).")
    if not value.startswith(ACCOUNT_CLASSES[name]):
        return _l("This account must start with %(classes)s in the chart of accounts.",
                  classes=" / ".join(ACCOUNT_CLASSES[name]))
    return None


def save_settings(organization, values: Mapping, *, by=None) -> AccountingSettings:
    """Check every value, then save them all (or none: SettingsError lists what is wrong)."""
    errors: dict = {}
    clean: dict = {}
    for name in ACCOUNT_FIELDS:
        value = str(values.get(name) or "").strip()
        problem = _account_error(name, value)
        if problem:
            errors[name] = problem
        clean[name] = value
    if not {"platform_account", "bank_account"} & errors.keys() \
            and clean["platform_account"] == clean["bank_account"]:
        errors["platform_account"] = _l("The platform's account and the bank account must differ.")
    try:
        rate = int(values.get("counter_vat_rate_bp"))
    except (TypeError, ValueError):
        rate = -1
    if rate not in VAT_RATES_BP:
        errors["counter_vat_rate_bp"] = _l("Choose one of the French VAT rates.")
    number = re.sub(r"[\s.-]", "", str(values.get("vat_number") or "")).upper()
    if number and (len(number) > 20 or not vat.is_valid(number)):
        errors["vat_number"] = _l("This is not a valid intra-community VAT number (for "
                                  "example FR40123456824).")
    if errors:
        raise SettingsError(errors)
    # Under the seller's row lock: a first save sent twice at once (a double click) would add
    # the row twice and fail on its key; the second waits here, then changes the first's row.
    lock_rows(Organization, [organization.id])
    settings = db.session.get(AccountingSettings, organization.id)
    if settings is None:
        settings = AccountingSettings(organization_id=organization.id)
        db.session.add(settings)
    for name, value in clean.items():
        setattr(settings, name, value)
    settings.counter_vat_rate_bp = 0 if organization.vat_exempt else rate
    settings.vat_number = number or None
    db.session.flush()
    audit.record("accounting.settings_changed", organization, by=by,
                 data={**clean, "counter_vat_rate_bp": settings.counter_vat_rate_bp,
                       "vat_number": settings.vat_number})
    return settings
