"""Forms of the invoicing admin pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from marketplace.i18n import lazy_gettext as _l
from marketplace.money import parse_amount


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AmountField(StringField):
    """An amount in euros as a French reader types it (1 234,50, 1234.50, 1 234,50 €); its
    value in cents is `cents` once validated."""

    cents: int | None = None

    def pre_validate(self, form):
        text = (self.data or "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        try:
            self.cents = parse_amount(text)
        except ValueError:
            self.cents = None
            raise ValidationError(_l("Type an amount in euros, for example 1 234,50.")) from None
        if self.cents <= 0:
            raise ValidationError(_l("The amount must be more than 0 €."))


class TransferForm(FlaskForm):
    """A transfer received on the platform's account, as the bank statement shows it."""

    amount = AmountField(_l("Amount received (€)"), filters=[_strip],
                         validators=[DataRequired(message=_l("Type the amount received.")),
                                     Length(max=20)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    received_on = DateField(_l("Date received"), validators=[DataRequired(
        message=_l("Give the date the transfer reached the account."))])
    bank_reference = StringField(_l("Label on the bank statement"), filters=[_strip],
                                 validators=[Length(max=140)])


class RefundForm(FlaskForm):
    """An excess sent back to the customer by transfer."""

    amount = AmountField(_l("Amount sent back (€)"), filters=[_strip],
                         validators=[DataRequired(message=_l("Type the amount sent back.")),
                                     Length(max=20)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    received_on = DateField(_l("Date sent"), validators=[DataRequired(
        message=_l("Give the date the money was sent back."))])
    bank_reference = StringField(_l("Label of the transfer"), filters=[_strip],
                                 validators=[Length(max=140)])
