"""Human names of the organizations' enums, translated when shown (forms, pages, emails)."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.models import EssStatus, OrganizationKind, OrganizationStatus, Role

KIND_LABELS = {
    OrganizationKind.ASSOCIATION: _l("Association"),
    OrganizationKind.SOCIAL_ENTERPRISE: _l("Social enterprise"),
    OrganizationKind.WORKS_COUNCIL: _l("Works council"),
}

STATUS_LABELS = {
    OrganizationStatus.PENDING: _l("Pending review"),
    OrganizationStatus.APPROVED: _l("Approved"),
    OrganizationStatus.REJECTED: _l("Rejected"),
}

ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.MANAGER: _l("Manager"),
    Role.COUNTER: _l("Counter staff"),
}

ROLE_DESCRIPTIONS = {
    Role.OWNER: _l("Everything, including members and roles."),
    Role.MANAGER: _l("Edits the organization's details, products and pickup slots; sees the members."),
    Role.COUNTER: _l("Scans and redeems vouchers and gift cards at the counter."),
}

# A works council sells nothing: its members run gift-card campaigns for the employees.
WORKS_COUNCIL_ROLE_DESCRIPTIONS = {
    Role.OWNER: _l("Everything, including members and roles."),
    Role.MANAGER: _l("Creates the campaigns, imports the beneficiaries, checks the URSSAF limits "
                     "and edits the works council's details; sees the members."),
    Role.COUNTER: _l("Follows the campaigns and their beneficiaries, without changing them."),
}


def role_descriptions(organization) -> dict:
    """What each role does in this organization (a seller's staff or a works council)."""
    if organization is not None and organization.kind == OrganizationKind.WORKS_COUNCIL:
        return WORKS_COUNCIL_ROLE_DESCRIPTIONS
    return ROLE_DESCRIPTIONS

ESS_STATUS_LABELS = {
    EssStatus.ASSOCIATION: _l("Association"),
    EssStatus.ESUS: _l("ESUS approved"),
    EssStatus.SCOP: _l("SCOP cooperative"),
    EssStatus.SCIC: _l("SCIC cooperative"),
    EssStatus.SIAE: _l("Integration enterprise"),
    EssStatus.MUTUAL: _l("Mutual"),
    EssStatus.FOUNDATION: _l("Foundation"),
    EssStatus.WORKS_COUNCIL: _l("Works council"),
    EssStatus.OTHER: _l("Social economy"),
}


def register_filters(state) -> None:
    """Jinja filters for every template: {{ org.status|org_status }}, {{ m.role|role_label }}..."""
    env = state.app.jinja_env
    env.filters["org_kind"] = lambda value: KIND_LABELS[OrganizationKind(value)]
    env.filters["org_status"] = lambda value: STATUS_LABELS[OrganizationStatus(value)]
    env.filters["role_label"] = lambda value: ROLE_LABELS[Role(value)]
    env.filters["ess_status"] = lambda value: ESS_STATUS_LABELS[EssStatus(value)]
    env.globals["role_descriptions"] = role_descriptions
