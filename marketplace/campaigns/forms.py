"""Forms of the campaign pages: the campaign, the spreadsheet, a line corrected in the page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from marketplace.campaigns import payment_methods
from marketplace.campaigns.importing import COLUMN_LABELS
from marketplace.campaigns.labels import AMOUNT_MODE_LABELS, EVENT_LABELS, UNSPENT_LABELS
from marketplace.campaigns.models import AmountMode, CampaignEvent, UnspentPolicy
from marketplace.campaigns.restrictions import SUGGESTED_CATEGORIES
from marketplace.campaigns.services import CampaignSettings
from marketplace.i18n import lazy_gettext as _l
from marketplace.money import parse_euros
from marketplace.organizations.forms import ServiceForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CampaignForm(ServiceForm):
    name = StringField(_l("Name of the campaign"), filters=[_strip],
                       validators=[DataRequired(), Length(max=120)],
                       render_kw={"placeholder": _l("For example: Christmas 2026")})
    event = SelectField(_l("Event"), choices=[SelectChoice(e.value, EVENT_LABELS[e]) for e in CampaignEvent],
                        default=CampaignEvent.CHRISTMAS.value, validators=[DataRequired()])
    year = SelectField(_l("Year"), coerce=int, validators=[InputRequired()])
    send_on = DateField(_l("Sending date"), validators=[InputRequired()])
    validity_months = IntegerField(
        _l("Validity (months)"), default=12,
        validators=[InputRequired(), NumberRange(min=12, max=60, message=_l(
            "Between 12 and 60 months."))])
    amount_mode = RadioField(_l("Amount"), choices=[SelectChoice(m.value, AMOUNT_MODE_LABELS[m])
                                                   for m in AmountMode],
                             default=AmountMode.SAME.value, validators=[DataRequired()])
    amount = StringField(_l("Amount of each card"), filters=[_strip],
                         render_kw={"inputmode": "decimal", "placeholder": "50,00"})
    unspent_policy = RadioField(_l("What is left on the cards when they expire"),
                                choices=[SelectChoice(p.value, UNSPENT_LABELS[p]) for p in UnspentPolicy],
                                default=UnspentPolicy.CREDIT.value, validators=[DataRequired()])
    unspent_association = SelectField(_l("Association that receives it"), coerce=int,
                                      validators=[Optional()])
    categories = CheckboxesField(_l("Where the cards may be spent"), validators=[Optional()])
    sellers = SelectMultipleField(_l("Only at these sellers (optional)"), coerce=int,
                                  validators=[Optional()])

    def __init__(self, *args, years, categories, associations, sellers, **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = [SelectChoice(year, str(year)) for year in years]
        self.categories.choices = [SelectChoice(*choice) for choice in categories]
        self.unspent_association.choices = [SelectChoice(0, _l("Choose an association"))] + [
            SelectChoice(*choice) for choice in associations]
        self.sellers.choices = [SelectChoice(*choice) for choice in sellers]

    def validate_amount(self, field):
        if self.amount_mode.data != AmountMode.SAME.value:
            return
        if not field.data:
            raise ValidationError(_l("Give the amount of each card."))
        try:
            parse_euros(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Write an amount in euros, for example 50 or 12,50.")) from exc

    def settings(self) -> CampaignSettings:
        event = CampaignEvent(self.event.data)
        slugs = set(self.categories.data or ())
        if not slugs:
            # Nothing ticked: the event's usual goods, or anything at all without an event.
            slugs = set(SUGGESTED_CATEGORIES.get(event, ())) or None
        mode = AmountMode(self.amount_mode.data)
        return CampaignSettings(
            name=self.name.data, event=event, year=self.year.data, send_on=self.send_on.data,
            validity_months=self.validity_months.data, amount_mode=mode,
            amount_cents=parse_euros(self.amount.data) if mode == AmountMode.SAME else None,
            unspent_policy=UnspentPolicy(self.unspent_policy.data),
            unspent_association_id=self.unspent_association.data or None,
            category_slugs=slugs, seller_ids=set(self.sellers.data or ()))


class UploadForm(FlaskForm):
    spreadsheet = FileField(_l("Spreadsheet (CSV or Excel .xlsx)"), validators=[
        FileRequired(_l("Choose the file of the beneficiaries."))],
        render_kw={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument"
                             ".spreadsheetml.sheet"})


class LineForm(FlaskForm):
    """A line of the import, corrected in the page (checked with the whole import)."""

    last_name = StringField(COLUMN_LABELS["last_name"], filters=[_strip])
    first_name = StringField(COLUMN_LABELS["first_name"], filters=[_strip])
    email = StringField(COLUMN_LABELS["email"], filters=[_strip])
    amount = StringField(COLUMN_LABELS["amount"], filters=[_strip])
    employee_number = StringField(COLUMN_LABELS["employee_number"], filters=[_strip])
    children = StringField(COLUMN_LABELS["children"], filters=[_strip])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), filters=[_strip],
                           validators=[Optional(), Length(max=300)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class PaymentForm(FlaskForm):
    """Accept the quote and choose how to pay it: the methods registered in
    campaigns.payment_methods, in their order."""

    method = RadioField(_l("How do you pay?"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(name, label) for name, label, _start in
                               payment_methods.available()]
        if not self.is_submitted() and len(self.method.choices) == 1:
            self.method.data = self.method.choices[0][0]


class CancelCardForm(FlaskForm):
    reason = StringField(_l("Why is this card cancelled?"), filters=[_strip],
                         validators=[DataRequired(), Length(max=200)])


class ResendForm(FlaskForm):
    """A card sent again, to the address typed (corrected, or the same)."""

    email = StringField(_l("Email address"), filters=[_strip],
                        validators=[DataRequired(), Length(max=254)])


class SendForm(FlaskForm):
    """Send the cards not sent yet (a button)."""
