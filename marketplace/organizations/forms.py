"""Forms of the organizations pages: application, details, invitations and roles."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.labels import ESS_STATUS_LABELS, KIND_LABELS, ROLE_LABELS
from marketplace.organizations.models import EssStatus, OrganizationKind, Role
from marketplace.organizations.services import CONTACT_FIELDS, IDENTITY_FIELDS, SETTINGS_FIELDS
from marketplace.organizations.validators import (
    Cleaned,
    clean_postcode,
    clean_rna,
    clean_siret,
    clean_website,
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ServiceForm(FlaskForm):
    """A form whose data goes to a service; the service's errors come back onto its fields."""

    def attach_error(self, exc) -> bool:
        """Show a service error on its field; False when it belongs to no field of this form."""
        name = getattr(exc, "field", None)
        if name and name in self:
            self[name].errors = [*self[name].errors, str(exc.message)]
            return True
        return False


class ContactForm(ServiceForm):
    """What managers keep up to date, whatever the organization's status."""

    address_line = StringField(
        _l("Street address"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    postcode = StringField(
        _l("Postcode"),
        filters=[_strip],
        validators=[DataRequired(), Cleaned(clean_postcode)],
        render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5},
    )
    town = StringField(_l("Town"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    vat_exempt = BooleanField(_l("We do not charge VAT (art. 293 B of the CGI)"))
    description = TextAreaField(
        _l("Description"), filters=[_strip], validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 5},
    )
    contact_email = EmailField(
        _l("Contact email"),
        filters=[_strip],
        validators=[Optional(), Email(message=_l("This email address is not valid.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    phone = TelField(
        _l("Phone"), filters=[_strip], validators=[Optional(), Length(max=30)],
        render_kw={"autocomplete": "tel"},
    )
    website = StringField(
        _l("Website"), filters=[_strip],
        validators=[Optional(), Length(max=200), Cleaned(clean_website)],
        render_kw={"inputmode": "url", "autocomplete": "url"},
    )

    field_names = CONTACT_FIELDS

    def details(self) -> dict:
        return {name: self[name].data for name in self.field_names}


class IdentityForm(ContactForm):
    """The legal identity too: editable until the platform team approves it."""

    name = StringField(
        _l("Name of the organization"), filters=[_strip],
        validators=[DataRequired(), Length(max=150)], render_kw={"autocomplete": "organization"},
    )
    legal_form = StringField(
        _l("Legal form"), filters=[_strip], validators=[Optional(), Length(max=80)]
    )
    siret = StringField(
        _l("SIRET"), filters=[_strip], validators=[Optional(), Cleaned(clean_siret)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    rna = StringField(
        _l("RNA number"), filters=[_strip], validators=[Optional(), Cleaned(clean_rna)],
        render_kw={"autocomplete": "off"},
    )
    local_register = StringField(
        _l("Local register reference (Alsace-Moselle)"), filters=[_strip],
        validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "off"},
    )
    ess_status = SelectField(
        _l("Place in the social and solidarity economy"),
        choices=[SelectChoice(status.value, ESS_STATUS_LABELS[status]) for status in EssStatus],
        validators=[DataRequired()],
    )

    field_names = IDENTITY_FIELDS + CONTACT_FIELDS


class _SellerSettings:
    restock_no_shows = BooleanField(
        _l("Put the goods of orders nobody came for back on sale when I mark them")
    )


class EditContactForm(_SellerSettings, ContactForm):
    field_names = CONTACT_FIELDS + SETTINGS_FIELDS


class EditIdentityForm(_SellerSettings, IdentityForm):
    field_names = IDENTITY_FIELDS + CONTACT_FIELDS + SETTINGS_FIELDS


class ApplicationForm(IdentityForm):
    kind = SelectField(
        _l("Kind of organization"),
        choices=[SelectChoice(kind.value, KIND_LABELS[kind]) for kind in OrganizationKind],
        validators=[DataRequired()],
    )


class InvitationForm(ServiceForm):
    email = EmailField(
        _l("Email address"), filters=[_strip],
        validators=[DataRequired(), Email(message=_l("This email address is not valid.")), Length(max=254)],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role],
        default=Role.COUNTER.value,
        validators=[DataRequired()],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role],
        validators=[DataRequired()],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
