"""Organization pages: apply, my organizations, and the staff pages under /orgs/<org_id>/."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import uow
from marketplace.errors import render_error
from marketplace.organizations import landing, services
from marketplace.organizations import members as members_service
from marketplace.organizations.access import ALL_KINDS, member_required, owned_or_404
from marketplace.organizations.forms import (
    ApplicationForm,
    ConfirmForm,
    EditContactForm,
    EditIdentityForm,
    InvitationForm,
    RoleForm,
)
from marketplace.organizations.labels import register_filters
from marketplace.organizations.members import InvitationError
from marketplace.organizations.models import Invitation, Membership, OrganizationStatus, Role
from marketplace.organizations.validators import OrganizationError

bp = Blueprint("organizations", __name__)
bp.record_once(register_filters)
bp.record_once(landing.register)  # accounts' after-login landing


@bp.get("/my/organizations")
@login_required
def my_organizations():
    memberships = members_service.memberships_of(current_user)
    return render_template("organizations/my_organizations.html", memberships=memberships)


@bp.route("/organizations/apply", methods=["GET", "POST"])
@login_required
def apply():
    if not current_user.is_verified:
        return render_template("organizations/apply_unverified.html"), 403
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            organization = services.apply(by=current_user, kind=form.kind.data, details=form.details())
        except OrganizationError as exc:
            uow.refuse()  # the form is shown again: nothing of this attempt is kept
            _show_error(form, exc)
        else:
            flash(_("Thank you! Your application was sent; we will email you once it is reviewed."), "success")
            return redirect(url_for(".dashboard", org_id=organization.id))
    status = 400 if form.errors else 200
    return render_template("organizations/apply.html", form=form), status


@bp.get("/orgs/<int:org_id>/")
@member_required(Role.COUNTER, kinds=ALL_KINDS)
def dashboard(organization, membership):
    return render_template(
        "organizations/dashboard.html", organization=organization, membership=membership
    )


@bp.route("/orgs/<int:org_id>/edit", methods=["GET", "POST"])
@member_required(Role.MANAGER, kinds=ALL_KINDS)
def edit(organization, membership):
    # The legal identity was checked by the platform team: read-only once approved.
    form_class = EditContactForm if organization.is_approved else EditIdentityForm
    form = form_class(obj=organization)
    if form.validate_on_submit():
        was_rejected = organization.status == OrganizationStatus.REJECTED
        try:
            changed = services.update(organization, by=current_user, details=form.details())
        except OrganizationError as exc:
            uow.refuse()  # the form is shown again: nothing of this attempt is kept
            _show_error(form, exc)
        else:
            if not changed:
                flash(_("Nothing was changed."), "info")
            elif was_rejected:
                flash(_("Your changes were saved and your application was sent for a new review."), "success")
            else:
                flash(_("The organization's details were saved."), "success")
            return redirect(url_for(".dashboard", org_id=organization.id))
    status = 400 if form.errors else 200
    return render_template(
        "organizations/edit.html", organization=organization, membership=membership, form=form
    ), status


@bp.get("/orgs/<int:org_id>/members")
@member_required(Role.MANAGER, kinds=ALL_KINDS)
def members(organization, membership):
    return _render_members(organization, membership)


@bp.post("/orgs/<int:org_id>/invitations")
@member_required(Role.OWNER, kinds=ALL_KINDS)
def invite(organization, membership):
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation = members_service.invite(
                organization, email=form.email.data, role=Role(form.role.data), by=current_user
            )
        except OrganizationError as exc:
            uow.refuse()  # the form is shown again: nothing of this attempt is kept
            _show_error(form, exc)
        else:
            flash(_("An invitation was emailed to %(email)s.", email=invitation.email), "success")
            return redirect(url_for(".members", org_id=organization.id))
    return _render_members(organization, membership, invite_form=form, status=400)


@bp.post("/orgs/<int:org_id>/invitations/<int:invitation_id>/revoke")
@member_required(Role.OWNER, kinds=ALL_KINDS)
def revoke_invitation(organization, membership, invitation_id: int):
    invitation = owned_or_404(Invitation, invitation_id, organization)
    email = invitation.email
    if ConfirmForm().validate_on_submit() and _run(
        members_service.revoke_invitation, invitation, by=current_user
    ):
        flash(_("The invitation to %(email)s was withdrawn.", email=email), "success")
    return redirect(url_for(".members", org_id=organization.id))


@bp.post("/orgs/<int:org_id>/members/<int:membership_id>/role")
@member_required(Role.OWNER, kinds=ALL_KINDS)
def change_role(organization, membership, membership_id: int):
    target = _membership_or_404(organization, membership_id)
    form = RoleForm(prefix=f"member-{target.id}")
    if form.validate_on_submit():
        role = Role(form.role.data)
        if _run(members_service.change_role, target, role=role, by=current_user):
            flash(_role_changed_message(target.user.name, role), "success")
    return redirect(url_for(".members", org_id=organization.id))


@bp.post("/orgs/<int:org_id>/members/<int:membership_id>/remove")
@member_required(Role.OWNER, kinds=ALL_KINDS)
def remove_member(organization, membership, membership_id: int):
    target = _membership_or_404(organization, membership_id)
    name = target.user.name
    leaving = target.user_id == current_user.id
    if ConfirmForm().validate_on_submit() and _run(
        members_service.remove_member, target, by=current_user
    ):
        flash(_("%(name)s is no longer a member of the organization.", name=name), "success")
        if leaving:
            return redirect(url_for(".my_organizations"))
    return redirect(url_for(".members", org_id=organization.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """GET shows the invitation (mail scanners open links: they must not accept it); POST accepts."""
    found = members_service.find_invitation(token)
    if found is None:
        return render_error(404, _("This invitation link is not valid. Check that you copied the whole link."))
    try:
        members_service.check_invitation_usable(found)
        if current_user.is_authenticated:
            members_service.check_invitation_for(found, current_user)
    except InvitationError as exc:
        return render_template(
            "organizations/invitation.html", invitation=found, problem=exc.message
        ), exc.status_code
    if not current_user.is_authenticated:
        return render_template("organizations/invitation.html", invitation=found)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            membership = members_service.accept_invitation(found, user=current_user)
        except InvitationError as exc:
            uow.refuse()
            return render_template(
                "organizations/invitation.html", invitation=found, problem=exc.message
            ), exc.status_code
        flash(_("Welcome to %(name)s!", name=membership.organization.name), "success")
        return redirect(url_for(".dashboard", org_id=membership.organization_id))
    return render_template("organizations/invitation.html", invitation=found, form=form)


# --- helpers --------------------------------------------------------------------------------


def _render_members(organization, membership, *, invite_form=None, status=200):
    memberships = members_service.members(organization)
    is_owner = membership.has_role(Role.OWNER)
    role_forms = {}
    if is_owner:
        for member in memberships:
            form = RoleForm(prefix=f"member-{member.id}", formdata=None)
            form.role.data = member.role.value
            role_forms[member.id] = form
    return render_template(
        "organizations/members.html",
        organization=organization,
        membership=membership,
        memberships=memberships,
        invitations=members_service.open_invitations(organization) if is_owner else [],
        invite_form=invite_form or (InvitationForm(formdata=None) if is_owner else None),
        role_forms=role_forms,
        confirm_form=ConfirmForm(formdata=None),
    ), status


def _membership_or_404(organization, membership_id: int) -> Membership:
    return owned_or_404(Membership, membership_id, organization)


def _run(operation, *args, **kwargs) -> bool:
    """Call one service; a refused change is flashed and the request's unit is refused (the
    answer is a redirect, which would otherwise commit)."""
    try:
        operation(*args, **kwargs)
    except OrganizationError as exc:
        uow.refuse()
        flash(str(exc.message), "error")
        return False
    return True


def _show_error(form, exc: OrganizationError) -> None:
    if not form.attach_error(exc):
        flash(str(exc.message), "error")


def _role_changed_message(name: str, role: Role) -> str:
    # One whole sentence per role, so translators can make each one agree.
    if role == Role.OWNER:
        return _("%(name)s is now an owner of the organization.", name=name)
    if role == Role.MANAGER:
        return _("%(name)s is now a manager of the organization.", name=name)
    return _("%(name)s is now counter staff of the organization.", name=name)
