"""Forms of the platform admin pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from marketplace.i18n import lazy_gettext as _l


class ReviewForm(FlaskForm):
    """Sent by a confirmation page only: it carries the version of the application shown."""

    reviewed_version = HiddenField(validators=[DataRequired(
        message=_l("Confirm from the confirmation page, which shows the application you decide on."))])


class ApproveForm(ReviewForm):
    """Approving needs nothing else (and the CSRF token)."""


class RejectForm(ReviewForm):
    reason = TextAreaField(
        _l("Reason for the rejection (sent to the applicant)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message=_l("Give the reason for the rejection: the applicant will read it.")),
            Length(max=2000),
        ],
        render_kw={"rows": 4},
    )
