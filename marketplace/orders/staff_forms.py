"""Forms of the pages in staff_views: the seller's order list and order part (cancel, refund
lines), and the shopper's withdrawal request."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import OrderLine, OrderStatus

S = OrderStatus

# The same words as the shopper's pages (orders.views.STATUS_LABELS).
STATUS_LABELS = {
    S.PENDING_PAYMENT: _l("Waiting for payment"),
    S.PAID: _l("Paid"),
    S.READY_FOR_PICKUP: _l("Ready for pickup"),
    S.COLLECTED: _l("Collected"),
    S.CANCELLED: _l("Cancelled"),
    S.EXPIRED: _l("Not paid in time"),
    S.REFUNDED: _l("Refunded"),
    S.PARTIALLY_REFUNDED: _l("Partly refunded"),
    S.NO_SHOW: _l("Not collected"),
}

# What a seller has to deal with: everything the shopper paid for. The list shows these unless
# another status is chosen.
PAID_AND_LATER = (S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED, S.REFUNDED,
                  S.NO_SHOW)

DEFAULT_FILTER = ""
ALL_STATUSES = "all"
REASON_MAX = 200


def parse_id(value: str | None) -> int | None:
    """A record id from the query string, or None (never an int the database cannot hold)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


class OrderFilterForm(Form):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(DEFAULT_FILTER, _l("Paid, to prepare or done")),
            *[SelectChoice(status.value, STATUS_LABELS[status])
              for status in (*PAID_AND_LATER, S.PENDING_PAYMENT, S.EXPIRED, S.CANCELLED)],
            SelectChoice(ALL_STATUSES, _l("All statuses")),
        ],
        default=DEFAULT_FILTER,
        validators=[Optional()],
    )
    slot = SelectField(_l("Pickup slot"), choices=[], default="", validators=[Optional()])
    q = SearchField(
        _l("Order reference or shopper's name"), filters=[lambda v: (v or "").strip()],
        validators=[Optional(), Length(max=120)],
    )

    def __init__(self, formdata, *, slot_choices: list[SelectChoice]):
        super().__init__(formdata)
        self.slot.choices = [SelectChoice("", _l("All slots")), *slot_choices]

    @property
    def chosen_status(self) -> str:
        value = self.status.data or DEFAULT_FILTER
        known = {choice.value for choice in self.status.choices}
        return value if value in known else DEFAULT_FILTER

    @property
    def chosen_slot_id(self) -> int | None:
        return parse_id(self.slot.data)

    @property
    def query(self) -> str:
        return (self.q.data or "")[:120]

    @property
    def active(self) -> bool:
        return bool(self.chosen_status or self.chosen_slot_id or self.query)


def _reason_field(label, *, required: bool, hint_max: int = REASON_MAX):
    validators = [DataRequired(message=_l("Say why, in a few words."))] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=hint_max)],
                         render_kw={"rows": 3, "maxlength": hint_max})


class CancelPartForm(FlaskForm):
    reason = _reason_field(_l("Why is this part cancelled?"), required=True)


class _LinesForm(FlaskForm):
    """A quantity field per line ("line_<id>"), added by `_with_lines`."""

    line_ids: list[int] = []
    nothing_chosen_message = _l("Choose at least one quantity.")

    def line_fields(self):
        return [(line_id, self[f"line_{line_id}"]) for line_id in self.line_ids]

    def quantities(self) -> dict[int, int]:
        return {line_id: field.data for line_id, field in self.line_fields() if field.data}

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.quantities():
            self.form_errors.append(self.nothing_chosen_message)
            return False
        return True


def _with_lines(base, lines: list[tuple[OrderLine, int]], label):
    """A subclass of `base` with one quantity field (0 to what is left) per (line, left)."""
    attrs = {"line_ids": [line.id for line, _ in lines]}
    for line, left in lines:
        attrs[f"line_{line.id}"] = IntegerField(
            label(line),
            default=0,
            validators=[
                Optional(),
                NumberRange(min=0, max=left, message=_l("Choose a number between %(min)s and %(max)s.")),
            ],
            render_kw={"min": 0, "max": left, "inputmode": "numeric"},
        )
    return type(base.__name__, (base,), attrs)


class _RefundLinesForm(_LinesForm):
    reason = _reason_field(_l("Why are these items refunded?"), required=True)
    nothing_chosen_message = _l("Choose how many of at least one item to refund.")


def refund_lines_form(part, **kwargs) -> _LinesForm:
    lines = [(line, line.quantity - line.refunded_quantity) for line in part.lines
             if line.quantity > line.refunded_quantity]
    form_class = _with_lines(
        _RefundLinesForm, lines, lambda line: _l("How many “%(title)s” to refund", title=line.title)
    )
    return form_class(prefix="refund", **kwargs)


class _WithdrawalForm(_LinesForm):
    reason = _reason_field(
        _l("Would you like to tell the seller why? (optional)"), required=False, hint_max=500
    )
    nothing_chosen_message = _l("Choose how many of at least one item you return.")


def withdrawal_form(views, **kwargs) -> _LinesForm:
    """`views`: the eligible WithdrawableLine rows."""
    form_class = _with_lines(
        _WithdrawalForm, [(view.line, view.remaining) for view in views],
        lambda line: _l("How many “%(title)s” you return", title=line.title),
    )
    return form_class(**kwargs)
