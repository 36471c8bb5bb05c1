"""Who may open an organization's staff pages: the one decorator every /orgs/<org_id>/ view uses."""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from marketplace.db import db
from marketplace.extensions import login_manager
from marketplace.organizations.models import (
    SELLER_KINDS,
    Organization,
    OrganizationKind,
    Role,
)

# For the pages every kind of organization has (overview, details, members).
ALL_KINDS = tuple(OrganizationKind)
WORKS_COUNCILS = (OrganizationKind.WORKS_COUNCIL,)


def member_required(role: Role = Role.COUNTER, *, kinds: tuple = SELLER_KINDS):
    """Load the organization from `org_id` and check the current user's membership.

    Anonymous visitors go to the login page; a user who is not a member gets 404 (the page does
    not reveal that the organization exists); a member whose role is too low gets 403, and so
    does a member of an organization of another kind (a works council on a seller's page, a
    seller on a works council's campaigns): a page is for sellers unless it says otherwise
    (`kinds`). Platform admins are not members: they act through /admin. The view receives
    `organization` and `membership` instead of `org_id`.
    """
    role = Role(role)
    kinds = tuple(OrganizationKind(kind) for kind in kinds)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, org_id: int, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            membership = current_user.membership_in(org_id)
            if membership is None:
                abort(404)
            if not membership.has_role(role):
                abort(403)
            organization = db.session.get(Organization, org_id)
            if organization is None:  # pragma: no cover - a membership implies its organization
                abort(404)
            if organization.kind not in kinds:
                abort(403)
            return view(*args, organization=organization, membership=membership, **kwargs)

        # Read by the tests that walk every /orgs/ route: an undecorated view fails them.
        wrapper.required_role = role
        wrapper.organization_kinds = kinds
        return wrapper

    return decorator


def owned_or_404(model, record_id: int, organization: Organization):
    """The record of `model` with this id if it belongs to `organization` (by its
    organization_id column); another organization's id is a 404, never its data."""
    record = db.session.scalar(
        sa.select(model).where(model.id == record_id, model.organization_id == organization.id)
    )
    if record is None:
        abort(404)
    return record
