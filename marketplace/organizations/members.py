"""Members of an organization: roles, invitations by email, and the last-owner rule."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace import audit
from marketplace.accounts.models import User, normalize_email
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.organizations.models import Invitation, Membership, Organization, Role
from marketplace.organizations.validators import OrganizationError
from marketplace.urls import external_url


class InvitationError(OrganizationError):
    """An invitation link that cannot be used (expired, used, revoked, or for someone else)."""


def memberships_of(user: User) -> list[Membership]:
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(Membership.organization)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
    )


def members(organization: Organization) -> list[Membership]:
    """Owners first, then managers, then counter staff; by name within a role."""
    rank = sa.case({Role.OWNER.value: 1, Role.MANAGER.value: 2}, value=Membership.role, else_=3)
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(Membership.user)
            .where(Membership.organization_id == organization.id)
            .order_by(rank, User.name, User.id)
        )
    )


def open_invitations(organization: Organization) -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organization_id == organization.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(organization: Organization, *, email: str, role: Role, by: User) -> Invitation:
    """Email a link to join; a new invitation to the same address replaces the open one."""
    email = normalize_email(email)
    role = Role(role)
    if not email:
        raise OrganizationError(_l("Give the email address of the person to invite."), field="email")
    already = db.session.scalar(
        sa.select(Membership.id)
        .join(Membership.user)
        .where(Membership.organization_id == organization.id, User.email == email)
    )
    if already is not None:
        raise OrganizationError(
            _l("%(email)s is already a member of this organization.", email=email), field="email"
        )
    now = utcnow()
    for previous in db.session.scalars(
        sa.select(Invitation).where(
            Invitation.organization_id == organization.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        previous.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=by,
        expires_at=now + timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"]),
    )
    db.session.add(invitation)
    audit.record("member.invited", invitation, by=by, data={"email": email, "role": role.value})
    invitee = db.session.scalar(sa.select(User).where(User.email == email))
    queue_email(
        "invitation_to_join",
        to=email,
        locale=invitee.locale if invitee is not None else by.locale,
        organization=organization,
        role=role,
        inviter=by,
        invitation=invitation,
        link=external_url("organizations.invitation", token=token),
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))


def check_invitation_usable(invitation: Invitation) -> None:
    if invitation.revoked_at is not None:
        raise InvitationError(
            _l("This invitation was withdrawn by the organization. Ask them for a new one if needed."),
            status_code=410,
        )
    if invitation.accepted_at is not None:
        raise InvitationError(_l("This invitation has already been used."), status_code=410)
    if invitation.expires_at <= utcnow():
        raise InvitationError(
            _l("This invitation has expired. Ask the organization to send you a new one."),
            status_code=410,
        )


def check_invitation_for(invitation: Invitation, user: User) -> None:
    """The link was sent to one address: only the account with that address may use it."""
    if normalize_email(user.email) != invitation.email:
        message = _l(
            "This invitation was sent to %(email)s, but you are logged in as %(current)s. "
            "Log out, then log in with the invited address.",
            email=invitation.email,
            current=user.email,
        )
        raise InvitationError(message, status_code=403)
    if user.membership_in(invitation.organization_id) is not None:
        raise InvitationError(_l("You are already a member of this organization."), status_code=409)


def accept_invitation(invitation: Invitation, *, user: User) -> Membership:
    db.session.expire(invitation)
    lock_rows(Invitation, [invitation.id])  # one link, one membership, even on a double click
    check_invitation_usable(invitation)
    check_invitation_for(invitation, user)
    membership = Membership(organization=invitation.organization, user=user, role=invitation.role)
    db.session.add(membership)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    audit.record(
        "member.joined", membership, by=user,
        data={"email": user.email, "role": membership.role.value, "invitation_id": invitation.id},
    )
    return membership


def revoke_invitation(invitation: Invitation, *, by: User) -> None:
    if invitation.accepted_at is not None:
        raise OrganizationError(_l("This invitation has already been accepted."))
    if invitation.revoked_at is not None:
        return
    invitation.revoked_at = utcnow()
    audit.record("member.invitation_revoked", invitation, by=by, data={"email": invitation.email})


def change_role(membership: Membership, *, role: Role, by: User) -> None:
    role = Role(role)
    _lock_members(membership)
    old_role = membership.role
    if role == old_role:
        return
    if old_role == Role.OWNER:
        _keep_an_owner(membership.organization)
    membership.role = role
    audit.record(
        "member.role_changed", membership, by=by,
        data={"email": membership.user.email, "old_role": old_role.value, "new_role": role.value},
    )


def remove_member(membership: Membership, *, by: User) -> None:
    _lock_members(membership)
    if membership.role == Role.OWNER:
        _keep_an_owner(membership.organization)
    audit.record(
        "member.removed", membership, by=by,
        data={"email": membership.user.email, "role": membership.role.value},
    )
    db.session.delete(membership)
    db.session.flush()


def _lock_members(membership: Membership) -> None:
    """Changes to owners are serialised on the organization row: two owners demoting each other
    at the same moment must not leave the organization with none."""
    lock_rows(Organization, [membership.organization_id])
    db.session.refresh(membership)  # its role as it is now, under the lock


def _keep_an_owner(organization: Organization) -> None:
    owners = db.session.scalar(
        sa.select(sa.func.count()).select_from(Membership).where(
            Membership.organization_id == organization.id, Membership.role == Role.OWNER
        )
    )
    if owners <= 1:
        raise OrganizationError(
            _l("An organization always keeps at least one owner: make another member owner first.")
        )
