"""The form to buy a gift card (for oneself or as a gift)."""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter
from marketplace.money import parse_amount

OTHER = "other"


class BuyCardForm(FlaskForm):
    amount = RadioField(_l("Amount"), default="5000")
    other_amount = StringField(_l("Other amount (euros)"), validators=[Optional(), Length(max=12)],
                               render_kw={"inputmode": "decimal"})
    for_whom = RadioField(_l("For whom?"), default="me",
                          choices=[SelectChoice("me", _l("For me")),
                                   SelectChoice("gift", _l("A gift for someone"))])
    recipient_name = StringField(_l("Recipient's name"), validators=[Optional(), Length(max=120)])
    recipient_email = EmailField(_l("Recipient's email"), validators=[Optional(), Length(max=254)])
    message = TextAreaField(_l("Your message (optional)"), validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 3, "maxlength": 500})
    deliver_on = DateField(_l("Send it on (optional)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        presets = current_app.config["GIFTCARD_PRESET_CENTS"]
        self.amount.choices = [SelectChoice(str(c), money_filter(c)) for c in presets] + [
            SelectChoice(OTHER, _l("Other"))]

    def validate_other_amount(self, field):
        if self.amount.data != OTHER:
            return
        try:
            field.cents = parse_amount(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Type an amount in euros, for example 40 or 42,50.")) from exc

    def amount_cents(self) -> int:
        if self.amount.data == OTHER:
            return getattr(self.other_amount, "cents", 0)
        return int(self.amount.data)

    @property
    def is_gift(self) -> bool:
        return self.for_whom.data == "gift"
