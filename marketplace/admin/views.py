"""Platform admin pages: seller applications and their review, organizations, orders, audit log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import audit, uow
from marketplace.accounts.access import admins_only
from marketplace.accounts.models import User
from marketplace.admin import services
from marketplace.admin.forms import ApproveForm, RejectForm
from marketplace.admin.reader import AdminReader
from marketplace.audit.kinds import GROUPS
from marketplace.db import db
from marketplace.giftcards import payment as card_payment
from marketplace.giftcards import purchase as card_purchase
from marketplace.organizations import members as members_service
from marketplace.organizations import services as organizations
from marketplace.organizations.identifiers import check_identity
from marketplace.organizations.models import Organization, OrganizationKind, OrganizationStatus
from marketplace.organizations.services import ApplicationChanged
from marketplace.organizations.validators import OrganizationError

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


bp.before_request(admins_only)  # every page of this blueprint, present and future


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


# --- reviewing an application: a confirmation page, then the decision -------------------------


@bp.route("/organizations/<int:org_id>/approve", methods=["GET", "POST"])
def approve(org_id: int):
    return _review(_organization_or_404(org_id), "approve", ApproveForm())


@bp.route("/organizations/<int:org_id>/reject", methods=["GET", "POST"])
def reject(org_id: int):
    return _review(_organization_or_404(org_id), "reject", RejectForm())


def _review(org: Organization, step: str, form):
    """GET: the confirmation page (the key facts, the identifiers' check, the version of the
    application shown). POST from it: the decision, if the application is still that version."""
    if org.status != OrganizationStatus.PENDING:
        flash(_("This organization has already been approved.") if org.is_approved
              else _("This application has already been rejected."), "error")
        return redirect(url_for(".organization", org_id=org.id))
    if request.method == "GET":
        return _render_confirmation(org, step, form)
    if not form.validate_on_submit():
        return _render_confirmation(org, step, form, status=400)
    try:
        if step == "approve":
            organizations.approve(org, by=current_user, seen_version=form.reviewed_version.data)
        else:
            organizations.reject(org, by=current_user, reason=form.reason.data,
                                 seen_version=form.reviewed_version.data)
    except ApplicationChanged as exc:
        uow.refuse()
        form.form_errors.append(exc.message)
        return _render_confirmation(org, step, form, status=exc.status_code)
    except OrganizationError as exc:
        uow.refuse()  # flashed on a redirect, which would otherwise commit
        flash(str(exc.message), "error")
        return redirect(url_for(".organization", org_id=org.id))
    if step == "approve":
        flash(_("%(name)s is approved; the applicant was emailed.", name=org.name), "success")
    else:
        flash(_("The application of %(name)s is rejected; the applicant was emailed the reason.",
                name=org.name), "success")
    return redirect(url_for(".organization", org_id=org.id))


def _render_confirmation(org: Organization, step: str, form, *, status: int = 200):
    form.reviewed_version.data = organizations.review_version(org)  # what this page shows
    return render_template(
        "admin/confirm_review.html", organization=org, step=step, form=form,
        checks=check_identity(org),
    ), status


# --- orders ------------------------------------------------------------------------------------


@bp.get("/orders/<reference>")
def order(reference: str):
    """An order as the platform team needs it: buyer, sellers' parts, gift cards, refunds, and
    its history."""
    found = services.order_by_reference(reference)
    if found is None:
        abort(404)
    paid_with = card_payment.payments_of(found.id)
    bought = card_purchase.of_order(found.id)
    card_ids = {p.card_id for p in paid_with} | {c.card_id for c in bought if c.card_id}
    entries = services.order_history(found, card_ids=card_ids)
    refunds = services.refunds_of(found)
    return render_template(
        "admin/order.html", order=found, paid_with=paid_with, bought=bought, refunds=refunds,
        history=audit.describe(entries, AdminReader()),
    )


# --- the audit log -----------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    action = request.args.get("action", "").strip()[:80]
    organization_id = _positive_int_arg("organization")
    actor_id = _positive_int_arg("actor")
    page = db.paginate(
        audit.search(action=action or None, organization_id=organization_id, actor_id=actor_id),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    choices = services.organization_choices()
    return render_template(
        "admin/audit_log.html",
        page=page,
        described=audit.describe(page.items, AdminReader()),
        action=action,
        action_groups=_action_groups(),
        organization_id=organization_id,
        organization_choices=choices,
        actor=db.session.get(User, actor_id) if actor_id else None,
    )


def _action_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The filter's choices: (prefix, group label, [(action, label), ...]) in the registry's
    order; actions outside every group come last."""
    groups = [(prefix, str(label), []) for prefix, label in GROUPS.items()]
    other: list[tuple[str, str]] = []
    for action, kind in audit.KINDS.items():
        group = next((g for g in groups if action.startswith(g[0])), None)
        (group[2] if group else other).append((action, str(kind.label)))
    if other:
        groups.append(("", _("Other"), other))
    return groups


def _positive_int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value and value > 0 else None


def _render_organization(org: Organization, *, status=200):
    history = db.session.scalars(audit.search(organization_id=org.id).limit(20)).all()
    return render_template(
        "admin/organization.html",
        organization=org,
        memberships=members_service.members(org),
        history=audit.describe(history, AdminReader()),
        checks=check_identity(org),
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
