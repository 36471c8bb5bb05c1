"""Account forms: short, phone-friendly (autocomplete and inputmode on every field)."""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from marketplace.i18n import lazy_gettext as _l

PASSWORD_MAX_LENGTH = 256


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label=None):
    return EmailField(
        label or _l("Email address"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter your email address.")),
            Length(max=254),
            Email(message=_l("Please enter a valid email address, like name@example.org.")),
        ],
        render_kw={
            "autocomplete": "email",
            "inputmode": "email",
            "autocapitalize": "none",
            "spellcheck": "false",
            "maxlength": 254,
        },
    )


def new_password_field(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Please choose a password.")),
            Length(max=PASSWORD_MAX_LENGTH),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )


def confirm_password_field(other: str):
    return PasswordField(
        _l("Confirm the password"),
        validators=[
            DataRequired(message=_l("Please type the password a second time.")),
            Length(max=PASSWORD_MAX_LENGTH),
            EqualTo(other, message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )


class _NewPasswordForm(FlaskForm):
    """A form with a new `password`: the browser shows the minimum length too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        self.password.render_kw = {**self.password.render_kw, "minlength": minimum}


class RegisterForm(_NewPasswordForm):
    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name", "autocapitalize": "words", "maxlength": 120},
    )
    email = email_field()
    password = new_password_field(_l("Password"))
    confirm = confirm_password_field("password")


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Please enter your password.")),
            Length(max=PASSWORD_MAX_LENGTH),
        ],
        render_kw={"autocomplete": "current-password", "maxlength": PASSWORD_MAX_LENGTH},
    )
    remember_me = BooleanField(_l("Stay logged in on this device"))


class EmailForm(FlaskForm):
    """One address: asking for a reset link or a new confirmation link."""

    email = email_field()


class ResetPasswordForm(_NewPasswordForm):
    password = new_password_field(_l("New password"))
    confirm = confirm_password_field("password")


class ChangePasswordForm(_NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(message=_l("Please enter your current password.")),
            Length(max=PASSWORD_MAX_LENGTH),
        ],
        render_kw={"autocomplete": "current-password", "maxlength": PASSWORD_MAX_LENGTH},
    )
    password = new_password_field(_l("New password"))
    confirm = confirm_password_field("password")


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name", "autocapitalize": "words", "maxlength": 120},
    )
    locale = SelectField(_l("Language"), validators=[Length(max=5)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = list(current_app.config["LANGUAGES"].items())
