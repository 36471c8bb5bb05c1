"""The seller's accounting settings form (the rules are checked by services.save_settings)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from marketplace.i18n import format_rate
from marketplace.i18n import lazy_gettext as _l

ACCOUNT_LABELS = {
    "sales_account": _l("Sales of goods (707)"),
    "vat_collected_account": _l("VAT collected (44571)"),
    "commission_account": _l("Platform commission (6222)"),
    "vat_deductible_account": _l("Deductible VAT on the commission (44566)"),
    "platform_account": _l("What the platform owes you (467)"),
    "gift_card_account": _l("Gift cards spent at your counter (467)"),
    "donation_account": _l("Gift cards given to you: manual donations (7541)"),
    "bank_account": _l("Bank, where payouts arrive (512)"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    sales_account = StringField(ACCOUNT_LABELS["sales_account"], filters=[_strip])
    vat_collected_account = StringField(ACCOUNT_LABELS["vat_collected_account"], filters=[_strip])
    commission_account = StringField(ACCOUNT_LABELS["commission_account"], filters=[_strip])
    vat_deductible_account = StringField(ACCOUNT_LABELS["vat_deductible_account"],
                                         filters=[_strip])
    platform_account = StringField(ACCOUNT_LABELS["platform_account"], filters=[_strip])
    gift_card_account = StringField(ACCOUNT_LABELS["gift_card_account"], filters=[_strip])
    donation_account = StringField(ACCOUNT_LABELS["donation_account"], filters=[_strip])
    bank_account = StringField(ACCOUNT_LABELS["bank_account"], filters=[_strip])
    counter_vat_rate_bp = SelectField(_l("VAT rate of what you sell for gift cards at your counter"))
    vat_number = StringField(_l("Your intra-community VAT number (if you have one)"),
                             filters=[_strip])

    def __init__(self, *args, rates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.counter_vat_rate_bp.choices = [(str(rate), format_rate(rate)) for rate in rates]
