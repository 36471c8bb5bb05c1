"""The erasure's confirmation."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired

from marketplace.i18n import lazy_gettext as _l


class EraseForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Type your password to confirm."))],
        render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(
        _l("I understand that my account is erased for good."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))])
