"""The seller's "What we owe you" page and its Stripe Connect onboarding."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from marketplace.db import db
from marketplace.i18n import lazy_gettext as _l
from marketplace.ledger import services as ledger
from marketplace.orders.links import public_url
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.payments.gateway import GatewayError, get_gateway

bp = Blueprint("ledger", __name__)

KIND_LABELS = {
    "sale": _l("Order"), "card": _l("Gift card spent"), "donation": _l("Gift card donation"),
    "refund": _l("Refund"), "payout": _l("Payout"), "payout_failed": _l("Payout failed, back"),
}


@bp.app_template_global()
def ledger_kind(kind) -> str:
    return str(KIND_LABELS[getattr(kind, "value", kind)])


@bp.get("/orgs/<int:org_id>/payouts")
@member_required(Role.MANAGER)
def owed(organization, membership):
    return render_template(
        "ledger/owed.html", organization=organization, membership=membership,
        balance=ledger.balance(organization.id), entries=ledger.entries(organization.id),
        payouts=ledger.payouts(organization.id),
        demo=get_gateway().name == "demo",
    )


@bp.post("/orgs/<int:org_id>/payouts/connect")
@member_required(Role.OWNER)
def connect(organization, membership):
    try:
        url = ledger.start_onboarding(
            organization,
            refresh_url=public_url("ledger.owed", org_id=organization.id),
            return_url=public_url("ledger.connected", org_id=organization.id),
        )
    except GatewayError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".owed", org_id=organization.id), 303)
    return redirect(url, 303)


@bp.get("/orgs/<int:org_id>/payouts/connected")
@member_required(Role.MANAGER)
def connected(organization, membership):
    """Where Stripe sends the seller back: ask Stripe whether payouts can now be made."""
    try:
        enabled = ledger.refresh_account(organization)
    except GatewayError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        if enabled:
            flash(_("Your account is ready: payouts will be sent to it."), "success")
        else:
            flash(_("Stripe still needs some information: finish the onboarding to receive payouts."),
                  "warning")
    return redirect(url_for(".owed", org_id=organization.id))
