"""Forms of the seller back office for pickup: locations, weekly templates and slots."""
from __future__ import annotations

from datetime import datetime

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from marketplace.db import utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.pickup.services import local_zone

MAX_CAPACITY = 1000
MAX_CUTOFF_HOURS = 24 * 14
# Browsers send 17:00, or 17:00:00 when the input has a step in seconds.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def weekday_names() -> list[str]:
    """Monday..Sunday in the user's language, capitalised for a list (lundi -> Lundi)."""
    names = get_day_names("wide", context="stand-alone", locale=get_locale())
    return [names[day][:1].upper() + names[day][1:] for day in range(7)]


class LocationForm(FlaskForm):
    name = StringField(
        _l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=120)],
        render_kw={"placeholder": _l("For example: Shop, Warehouse")},
    )
    address_line = StringField(
        _l("Street address"), filters=[_strip], validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    postcode = StringField(
        _l("Postcode"), filters=[_strip],
        validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("The postcode must have 5 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5},
    )
    town = StringField(_l("Town"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    instructions = TextAreaField(
        _l("How to find us (optional)"), filters=[_strip], validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    opening_hours = TextAreaField(
        _l("Opening hours (optional)"), filters=[_strip], validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    is_active = BooleanField(_l("Shoppers can collect orders here"), default=True)

    def fields_for_service(self) -> dict:
        return {name: self[name].data for name in (
            "name", "address_line", "postcode", "town", "instructions", "opening_hours", "is_active"
        )}


class _TimesMixin:
    def validate_end_time(self, field):
        start = self.start_time.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(_l("The slot must end after it starts."))


class TemplateForm(_TimesMixin, FlaskForm):
    weekday = SelectField(_l("Day of the week"), coerce=int, validators=[InputRequired()])
    start_time = TimeField(_l("From"), format=TIME_FORMATS, validators=[InputRequired()])
    end_time = TimeField(_l("Until"), format=TIME_FORMATS, validators=[InputRequired()])
    capacity = IntegerField(
        _l("Orders per slot"), default=5,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_CAPACITY)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    cutoff_hours = IntegerField(
        _l("Orders close this many hours before"), default=2,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_CUTOFF_HOURS)],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday.choices = [
            SelectChoice(str(day), name) for day, name in enumerate(weekday_names())
        ]

    def fields_for_service(self) -> dict:
        names = ["weekday", "start_time", "end_time", "capacity", "cutoff_hours"]
        if "is_active" in self:
            names.append("is_active")
        return {name: self[name].data for name in names}


class EditTemplateForm(TemplateForm):
    """A new weekly slot is active; an existing one can be paused."""

    is_active = BooleanField(_l("Active: publish these slots every week"))


class SlotForm(_TimesMixin, FlaskForm):
    """A one-off slot, for example an extra Saturday before Christmas."""

    day = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("From"), format=TIME_FORMATS, validators=[InputRequired()])
    end_time = TimeField(_l("Until"), format=TIME_FORMATS, validators=[InputRequired()])
    capacity = IntegerField(
        _l("Orders"), default=5, validators=[InputRequired(), NumberRange(min=1, max=MAX_CAPACITY)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    cutoff_hours = IntegerField(
        _l("Orders close this many hours before"), default=2,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_CUTOFF_HOURS)],
        render_kw={"inputmode": "numeric", "min": 0},
    )

    def starts_at(self) -> datetime:
        return datetime.combine(self.day.data, self.start_time.data, tzinfo=local_zone())

    def ends_at(self) -> datetime:
        return datetime.combine(self.day.data, self.end_time.data, tzinfo=local_zone())

    def validate_day(self, field):
        if field.data is None or self.start_time.data is None:
            return
        if self.starts_at() <= utcnow():
            raise ValidationError(_l("Choose a slot that starts in the future."))


class CloseSlotForm(FlaskForm):
    reason = StringField(
        _l("Reason for closing"), filters=[_strip],
        validators=[DataRequired(_l("Say why the slot is closed (for example: public holiday).")),
                    Length(max=200)],
        render_kw={"placeholder": _l("For example: public holiday")},
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
