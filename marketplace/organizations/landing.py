"""Where a member of organizations lands after logging in, when no page was asked for."""
from __future__ import annotations

from flask import url_for

from marketplace.accounts.landing import register_landing
from marketplace.organizations.members import memberships_of
from marketplace.organizations.models import Role


def landing_url(user) -> str | None:
    """The staff's first page: their organization's counter for counter volunteers of an
    approved seller, its overview for managers and owners, the list of their organizations
    when they belong to several. None for everyone else (shoppers keep the home page)."""
    memberships = memberships_of(user)
    if not memberships:
        return None
    if len(memberships) > 1:
        return url_for("organizations.my_organizations")
    (membership,) = memberships
    organization = membership.organization
    if membership.role == Role.COUNTER and organization.is_seller and organization.is_approved:
        return url_for("vouchers.counter", org_id=organization.id)
    return url_for("organizations.dashboard", org_id=organization.id)


def register(state) -> None:
    """On the organizations blueprint's registration: staff land on their organization."""
    register_landing(state.app, landing_url)
