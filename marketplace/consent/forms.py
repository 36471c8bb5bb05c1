"""The seller's message form."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from marketplace.consent.messages import BODY_MAX, SUBJECT_MAX
from marketplace.i18n import lazy_gettext as _l


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MessageForm(FlaskForm):
    subject = StringField(
        _l("Subject"), filters=[_strip],
        validators=[DataRequired(message=_l("Write a subject.")), Length(max=SUBJECT_MAX)],
        render_kw={"maxlength": SUBJECT_MAX})
    body = TextAreaField(
        _l("Text"), filters=[_strip],
        validators=[DataRequired(message=_l("Write the text of your message.")),
                    Length(max=BODY_MAX)],
        render_kw={"rows": 10, "maxlength": BODY_MAX})
