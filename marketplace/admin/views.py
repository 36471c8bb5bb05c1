"""Platform admin pages: seller applications and their review, organizations, audit log."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import audit
from marketplace.admin.forms import ApproveForm, RejectForm
from marketplace.db import db
from marketplace.extensions import login_manager
from marketplace.organizations import members as members_service
from marketplace.organizations import services as organizations
from marketplace.organizations.models import Organization, OrganizationKind, OrganizationStatus
from marketplace.organizations.validators import OrganizationError

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


@bp.before_request
def admins_only():
    """Every page of this blueprint, present and future, is for platform admins only."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.get("/")
def dashboard():
    pending = db.session.scalars(organizations.pending_applications().limit(50)).all()
    return render_template(
        "admin/dashboard.html", counts=organizations.counts_by_status(), pending=pending
    )


@bp.get("/organizations")
def organization_list():
    status = _enum_arg("status", OrganizationStatus)
    kind = _enum_arg("kind", OrganizationKind)
    query = request.args.get("q", "").strip()[:100]
    page = db.paginate(
        organizations.search(status=status, kind=kind, query=query),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "admin/organizations.html", page=page, status=status, kind=kind, query=query
    )


@bp.get("/organizations/<int:org_id>")
def organization(org_id: int):
    return _render_organization(_organization_or_404(org_id))


@bp.post("/organizations/<int:org_id>/approve")
def approve(org_id: int):
    org = _organization_or_404(org_id)
    if ApproveForm().validate_on_submit():
        try:
            organizations.approve(org, by=current_user)
        except OrganizationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("%(name)s is approved; the applicant was emailed.", name=org.name), "success")
    return redirect(url_for(".organization", org_id=org_id))


@bp.post("/organizations/<int:org_id>/reject")
def reject(org_id: int):
    org = _organization_or_404(org_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_organization(org, reject_form=form, status=400)
    try:
        organizations.reject(org, by=current_user, reason=form.reason.data)
    except OrganizationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The application of %(name)s is rejected; the applicant was emailed the reason.", name=org.name), "success")
    return redirect(url_for(".organization", org_id=org_id))


@bp.get("/audit")
def audit_log():
    action = request.args.get("action", "").strip()[:80]
    organization_id = request.args.get("organization", type=int)
    page = db.paginate(
        audit.search(action=action or None, organization_id=organization_id),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    choices = db.session.execute(
        sa.select(Organization.id, Organization.name).order_by(Organization.name)
    ).all()
    return render_template(
        "admin/audit_log.html",
        page=page,
        action=action,
        organization_id=organization_id,
        organization_choices=choices,
    )


def _render_organization(org: Organization, *, reject_form=None, status=200):
    history = db.session.scalars(audit.search(organization_id=org.id).limit(20)).all()
    return render_template(
        "admin/organization.html",
        organization=org,
        memberships=members_service.members(org),
        history=history,
        approve_form=ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
    ), status


def _organization_or_404(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    return org


def _enum_arg(name: str, enum_cls):
    try:
        return enum_cls(request.args.get(name, ""))
    except ValueError:
        return None
