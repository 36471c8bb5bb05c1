"""Pages of the consents: the seller's customer list, its CSV and its messages (/orgs/<id>/...),
the unsubscribe link of every message (no login), and the shopper's consents in their account."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from marketplace import uow
from marketplace.consent import messages, services
from marketplace.consent.forms import MessageForm
from marketplace.consent.models import (
    WITHDRAWN_BY_LINK,
    WITHDRAWN_FROM_ACCOUNT,
    WITHDRAWN_ONE_CLICK,
)
from marketplace.db import db
from marketplace.exports import cell, csv_response, local_datetime
from marketplace.extensions import csrf
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.security import private

bp = Blueprint("consent", __name__)

CUSTOMERS_PAGE_SIZE = 50


@bp.record_once
def _register(state) -> None:
    # The checkout (orders, above this domain) shows one checkbox per seller of the cart.
    state.app.add_template_global(services.checkout_choices, "consent_checkout_choices")
    state.app.add_template_global(services.HOW_LABELS, "consent_how_labels")


# --- the seller's customers ----------------------------------------------------------------------

@bp.get("/orgs/<int:org_id>/customers")
@member_required(Role.MANAGER)
def customers(organization, membership):
    page = db.paginate(services.customers(organization.id), per_page=CUSTOMERS_PAGE_SIZE,
                       error_out=False)
    return render_template(
        "consent/customers.html", organization=organization, membership=membership, page=page,
        sent=messages.messages_of(organization.id),
        next_allowed=messages.next_allowed_at(organization.id))


@bp.get("/orgs/<int:org_id>/customers.csv")
@member_required(Role.MANAGER)
def customers_csv(organization, membership):
    header = [_("Name"), _("Email"), _("Agreed on"), _("Language"), _("How"), _("Order"),
              _("Sentence agreed to")]
    rows = [[cell(consent.name), cell(consent.email), local_datetime(consent.given_at),
             consent.locale, str(services.HOW_LABELS.get(consent.method, consent.method)),
             cell(consent.order_reference or ""), cell(consent.wording)]
            for consent in services.all_customers(organization.id)]
    return private(csv_response(header, rows, filename=f"clients-{organization.slug}.csv"))


@bp.route("/orgs/<int:org_id>/customers/message", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def write_message(organization, membership):
    """Write (subject and text), preview, then confirm: the message leaves in batches."""
    form = MessageForm()
    count = services.customers_count(organization.id)
    next_allowed = messages.next_allowed_at(organization.id)
    preview = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            if request.form.get("confirm") == "1":
                try:
                    message = messages.queue_message(organization, subject=form.subject.data,
                                                     body=form.body.data, by=current_user)
                except services.ConsentError as exc:
                    uow.refuse()
                    form.form_errors.append(str(exc.message))
                    status = exc.status_code
                else:
                    flash(ngettext("Your message is on its way to %(num)d customer.",
                                   "Your message is on its way to %(num)d customers.",
                                   message.recipients_count), "success")
                    return redirect(url_for(".customers", org_id=organization.id), 303)
            else:
                preview = messages.preview_email(organization, subject=form.subject.data,
                                                 body=form.body.data, to=current_user.email)
                status = 200
    return render_template(
        "consent/write_message.html", organization=organization, membership=membership,
        form=form, count=count, next_allowed=next_allowed, preview=preview,
        min_days=messages.min_days()), status


# --- the unsubscribe link (no login) -----------------------------------------------------------

@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority; mail clients POST it (RFC 8058 one-click)
def unsubscribe(token: str):
    """GET: a page with one button (mail scanners open links; they do not press buttons).
    POST (the button, or the mail client's List-Unsubscribe-Post): no more messages from this
    seller to this address."""
    consent = services.consent_for_token(token)
    if consent is None:
        abort(404)
    done = consent.withdrawn_at is not None
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        services.withdraw(consent, how=WITHDRAWN_ONE_CLICK if one_click else WITHDRAWN_BY_LINK)
        done = True
    return private(Response(render_template("consent/unsubscribe.html", consent=consent,
                                            done=done)))


# --- the shopper's consents ------------------------------------------------------------------------

@bp.get("/account/consents")
@login_required
def my_consents():
    return render_template("consent/my_consents.html", consents=services.consents_of(current_user))


@bp.post("/account/consents/<int:consent_id>/withdraw")
@login_required
def withdraw(consent_id: int):
    consent = services.consent_of_user(current_user, consent_id)
    if consent is None:
        abort(404)
    if services.withdraw(consent, how=WITHDRAWN_FROM_ACCOUNT):
        flash(_("Done: %(seller)s will send you no more messages.",
                seller=consent.organization.name), "success")
    return redirect(url_for(".my_consents"), 303)
