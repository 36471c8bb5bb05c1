"""The platform's legal identity, read from the settings, as it is copied onto every document."""
from __future__ import annotations

from collections.abc import Mapping

from stdnum import bic, iban
from stdnum.fr import siren, siret


def check_settings(config: Mapping) -> None:
    """Refuse at start an identity that would print wrong numbers on every invoice."""
    checks = (("PLATFORM_SIREN", siren), ("PLATFORM_SIRET", siret), ("PLATFORM_IBAN", iban),
              ("PLATFORM_BIC", bic))
    for key, module in checks:
        value = config.get(key)
        if value and not module.is_valid(value):
            raise RuntimeError(f"{key} is not a valid number: {value!r} (check digits).")
    number, establishment = config.get("PLATFORM_SIREN"), config.get("PLATFORM_SIRET")
    if number and establishment and siret.compact(establishment)[:9] != siren.compact(number):
        raise RuntimeError("PLATFORM_SIRET does not start with PLATFORM_SIREN.")
    if config.get("INVOICING_SERVICE_FEE_VAT_BP", 0) < 0:
        raise RuntimeError("INVOICING_SERVICE_FEE_VAT_BP is a rate in basis points (2000 = 20 %).")


def issuer_snapshot(config: Mapping) -> dict:
    """What the documents say of the platform, copied onto each one on the day of issue."""
    return {
        "name": config["PLATFORM_LEGAL_NAME"],
        "address": config["PLATFORM_ADDRESS"],
        "legal_form": config.get("PLATFORM_LEGAL_FORM") or "",
        "siren": siren.format(config["PLATFORM_SIREN"]) if config.get("PLATFORM_SIREN") else "",
        "siret": siret.format(config["PLATFORM_SIRET"]) if config.get("PLATFORM_SIRET") else "",
        "vat_number": config.get("PLATFORM_VAT_NUMBER") or "",
        "rcs": config.get("PLATFORM_RCS") or "",
        "email": config.get("PLATFORM_CONTACT_EMAIL") or "",
        "bank_name": config.get("PLATFORM_BANK_NAME") or "",
        "iban": iban.format(config["PLATFORM_IBAN"]) if config.get("PLATFORM_IBAN") else "",
        "bic": config.get("PLATFORM_BIC") or "",
    }
