"""A works council's campaign pages, under /orgs/<org_id>/campaigns/. The unit of work commits
at the end of each request; these views never commit."""
from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

# billing: imported here, at app start, so that its receivers (payment, issuance) are connected.
from marketplace.campaigns import (
    billing,
    compliance,
    credit,
    dashboard,
    importing,
    printing,
    reminders,
    sending,
    services,
    urssaf,
)
from marketplace.campaigns.forms import (
    CampaignForm,
    CancelCardForm,
    CancelForm,
    ConfirmForm,
    LineForm,
    PaymentForm,
    ResendForm,
    SendForm,
    UploadForm,
)
from marketplace.campaigns.labels import register_filters
from marketplace.campaigns.models import AmountMode, Beneficiary, Campaign, CampaignStatus
from marketplace.campaigns.restrictions import SUGGESTED_CATEGORIES
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.spreadsheet import SpreadsheetError, read
from marketplace.catalog.models import Category
from marketplace.db import db
from marketplace.exports import amount, cell, csv_response
from marketplace.extensions import csrf
from marketplace.i18n import format_day, local_today
from marketplace.invoicing.pdf import document_pdf
from marketplace.invoicing.references import printed as printed_reference
from marketplace.organizations.access import WORKS_COUNCILS, member_required, owned_or_404
from marketplace.organizations.labels import ESS_STATUS_LABELS
from marketplace.organizations.models import (
    SELLER_KINDS,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)
from marketplace.security import private
from marketplace.urls import external_url

bp = Blueprint("campaigns", __name__)
bp.record_once(register_filters)

PER_PAGE = 50
SHARED_LIMIT = 500  # balances shown on the follow-up page (all of them in the exports)


def _campaign(organization, campaign_id: int) -> Campaign:
    return owned_or_404(Campaign, campaign_id, organization)


def _campaign_and_beneficiary(organization, campaign_id: int, beneficiary_id: int):
    """The campaign and one of its beneficiaries, or 404."""
    found = _campaign(organization, campaign_id)
    beneficiary = db.session.get(Beneficiary, beneficiary_id)
    if beneficiary is None or beneficiary.campaign_id != found.id:
        abort(404)
    return found, beneficiary


def _form(campaign: Campaign | None = None, **kwargs) -> CampaignForm:
    locale = str(get_locale() or "fr")
    categories = db.session.scalars(sa.select(Category).where(Category.parent_id.is_(None))
                                    .order_by(Category.position))
    approved = (sa.select(Organization).where(Organization.status == OrganizationStatus.APPROVED)
                .order_by(Organization.name))
    associations = db.session.scalars(approved.where(
        Organization.kind == OrganizationKind.ASSOCIATION))
    sellers = db.session.scalars(approved.where(Organization.kind.in_(SELLER_KINDS)))
    form = CampaignForm(
        years=services.campaign_years(),
        categories=[(c.slug, c.name(locale)) for c in categories],
        associations=[(o.id, f"{o.name} ({o.town})") for o in associations],
        sellers=[(o.id, f"{o.name} ({o.town})") for o in sellers], **kwargs)
    if campaign is not None and not form.is_submitted():
        form.name.data = campaign.name
        form.event.data = campaign.event.value
        form.year.data = campaign.year
        form.send_on.data = campaign.send_on
        form.validity_months.data = campaign.validity_months
        form.amount_mode.data = campaign.amount_mode.value
        form.amount.data = amount(campaign.amount_cents) if campaign.amount_cents else ""
        form.unspent_policy.data = campaign.unspent_policy.value
        form.unspent_association.data = campaign.unspent_association_id or 0
        profile = campaign.restriction_profile
        form.categories.data = sorted(profile.category_slugs) if profile else []
        form.sellers.data = [s.id for s in profile.sellers] if profile else []
    elif campaign is None and not form.is_submitted():
        form.year.data = local_today().year
    return form


def _suggestions() -> dict:
    return {event.value: list(slugs) for event, slugs in SUGGESTED_CATEGORIES.items()}


@bp.get("/orgs/<int:org_id>/campaigns")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def campaigns(organization, membership):
    listed = list(db.session.scalars(services.campaigns_of(organization)))
    return render_template("campaigns/list.html", organization=organization,
                           membership=membership, campaigns=listed,
                           totals=services.totals_of(listed),
                           credit_available=credit.available_cents(organization.id),
                           credit_used=credit.used_cents(organization.id))


@bp.route("/orgs/<int:org_id>/campaigns/new", methods=["GET", "POST"])
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def new(organization, membership):
    form = _form()
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(organization, form.settings(), by=current_user)
        except CampaignError as exc:
            if not form.attach_error(exc):
                raise
        else:
            flash(_("The campaign was created. Now import its beneficiaries."), "success")
            return redirect(url_for(".upload", org_id=organization.id, campaign_id=campaign.id))
    return _edit_page(organization, membership, form, None)


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def campaign(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    return _campaign_page(organization, membership, found)


def _campaign_page(organization, membership, found: Campaign, *, payment_form=None,
                   status: int = 200):
    count, total = services.totals(found)
    quote = billing.current_quote(found)
    proforma = billing.proforma_of(quote)
    return render_template(
        "campaigns/campaign.html", organization=organization, membership=membership,
        campaign=found, count=count, total=total, pending=importing.pending_of(found),
        missing=services.ready_for_quote(found)
        if count and found.status in services.EDITABLE else [],
        cancellable=billing.may_cancel(found),
        editable=found.status in services.EDITABLE, cancel_form=CancelForm(),
        confirm_form=ConfirmForm(), payment_form=payment_form or PaymentForm(formdata=None),
        quote=quote, proforma=proforma, invoice=billing.invoice_of(found),
        documents=billing.documents(found),
        fee_rate=billing.service_fee_bp(),
        credit_available=credit.available_cents(organization.id), credit_used=credit.used_by(found),
        payment_message=billing.payment_message(proforma) if proforma else None,
        sending=sending.progress(found) if found.status == CampaignStatus.ISSUED else None,
        send_form=SendForm(), may_send_now=found.send_on <= sending.local_today(),
        transfer_reference=printed_reference(proforma.transfer_reference)
        if proforma is not None and proforma.transfer_reference else ""), status


@bp.route("/orgs/<int:org_id>/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def edit(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if found.status not in services.EDITABLE:
        raise CampaignError(_("This campaign can no longer be changed."), status_code=409)
    form = _form(found)
    if form.validate_on_submit():
        try:
            services.update_campaign(found, form.settings(), by=current_user)
        except CampaignError as exc:
            if not form.attach_error(exc):
                raise
        else:
            flash(_("The campaign was saved."), "success")
            return redirect(url_for(".campaign", org_id=organization.id, campaign_id=found.id))
    return _edit_page(organization, membership, form, found)


def _edit_page(organization, membership, form, campaign):
    """The campaign form (new or existing), a 400 while it holds errors."""
    status = 400 if form.errors else 200
    return render_template("campaigns/edit.html", organization=organization,
                           membership=membership, form=form, campaign=campaign,
                           suggestions=_suggestions()), status


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/cancel")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def cancel(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    billing.cancel(found, by=current_user, reason=form.reason.data)
    importing.discard(found)
    flash(_("The campaign was cancelled."), "success")
    return redirect(url_for(".campaign", org_id=organization.id, campaign_id=found.id))


# --- import ----------------------------------------------------------------------------------

@bp.route("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import", methods=["GET", "POST"])
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def upload(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if found.status not in services.EDITABLE:
        raise CampaignError(_("This campaign can no longer be changed."), status_code=409)
    form = UploadForm()
    error, status = None, 200
    if form.validate_on_submit():
        limit = current_app.config["CAMPAIGN_IMPORT_MAX_BYTES"]
        data = form.spreadsheet.data.read(limit + 1)
        filename = form.spreadsheet.data.filename or "import"
        try:
            if len(data) > limit:
                raise SpreadsheetError(_("The file is larger than %(size)s MB.",
                                         size=limit // (1024 * 1024)), status_code=413)
            sheet = read(data, filename, max_lines=importing.max_lines())
        except SpreadsheetError as exc:
            error, status = exc.message, exc.status_code
        else:
            importing.start(found, sheet, filename=filename, by=current_user)
            return redirect(url_for(".review", org_id=organization.id, campaign_id=found.id))
    elif form.errors:
        status = 400
    return render_template(
        "campaigns/upload.html", organization=organization, membership=membership,
        campaign=found, form=form, error=error, pending=importing.pending_of(found),
        required=importing.required_fields(found), labels=importing.COLUMN_LABELS,
        max_lines=format_decimal(importing.max_lines())), status


def _pending(found: Campaign):
    pending = importing.pending_of(found)
    if pending is None:
        abort(404)
    return pending


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/review")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def review(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    pending = importing.pending_of(found)
    if pending is None:
        return redirect(url_for(".upload", org_id=organization.id, campaign_id=found.id))
    result = importing.review(pending)
    lines = result.lines_with_problems
    page = max(request.args.get("page", 1, type=int), 1)
    pages = max((len(lines) + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(page, pages)
    shown = lines[(page - 1) * PER_PAGE: page * PER_PAGE]
    forms = {line.id: LineForm(prefix=f"line-{line.id}", obj=line, formdata=None)
             for line in shown}
    return render_template(
        "campaigns/review.html", organization=organization, membership=membership,
        campaign=found, result=result, shown=shown, forms=forms, page=page, pages=pages,
        per_beneficiary=found.amount_mode == AmountMode.PER_BENEFICIARY,
        confirm_form=ConfirmForm())


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/lines/<int:line_id>")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def fix_line(organization, membership, campaign_id, line_id):
    found = _campaign(organization, campaign_id)
    pending = _pending(found)
    form = LineForm(prefix=f"line-{line_id}")
    if not form.validate_on_submit():
        abort(400)
    importing.fix_line(pending, line_id, {name: form[name].data for name in
                                          ("last_name", "first_name", "email", "amount",
                                           "employee_number", "children")
                                          if form[name].raw_data})
    flash(_("Line saved."), "success")
    return redirect(url_for(".review", org_id=organization.id, campaign_id=found.id,
                            page=request.args.get("page", 1, type=int)))


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/lines/<int:line_id>/delete")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def delete_line(organization, membership, campaign_id, line_id):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    importing.delete_line(_pending(found), line_id)
    flash(_("Line deleted."), "success")
    return redirect(url_for(".review", org_id=organization.id, campaign_id=found.id))


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/columns/<int:position>/ignore")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def ignore_column(organization, membership, campaign_id, position):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    importing.ignore_column(_pending(found), position)
    return redirect(url_for(".review", org_id=organization.id, campaign_id=found.id))


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/confirm")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def confirm(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = importing.confirm(_pending(found), by=current_user)
    flash(_("%(count)s beneficiaries were imported.", count=count) if count > 1
          else _("One beneficiary was imported."), "success")
    return redirect(url_for(".check", org_id=organization.id, campaign_id=found.id))


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/import/discard")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def discard(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    importing.discard(found)
    flash(_("The import was discarded: nothing was kept."), "info")
    return redirect(url_for(".campaign", org_id=organization.id, campaign_id=found.id))


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/beneficiaries")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def beneficiaries(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    page = db.paginate(services.beneficiaries(found), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    cards = {b.card_id: b.card for b in page.items if b.card_id is not None}
    return render_template("campaigns/beneficiaries.html", organization=organization,
                           membership=membership, campaign=found, page=page, cards=cards,
                           cancellable=billing.cancellable(found) and bool(cards),
                           card_cancelled=billing.card_cancelled,
                           cancel_card_form=CancelCardForm(formdata=None))


# --- quote, payment, invoice -----------------------------------------------------------------

def _back_to(organization, found: Campaign):
    return redirect(url_for(".campaign", org_id=organization.id, campaign_id=found.id), 303)


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/quote")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def get_quote(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    quote = billing.get_quote(found, by=current_user)
    flash(_("Quote %(number)s is ready: download it, then accept it to pay.",
            number=quote.number), "success")
    return _back_to(organization, found)


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/quote/withdraw")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def withdraw_quote(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    billing.withdraw_quote(found, by=current_user)
    flash(_("The quote was withdrawn: you may change the campaign, then get a new quote."),
          "info")
    return _back_to(organization, found)


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/quote/accept")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def accept_quote(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    form = PaymentForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _campaign_page(organization, membership, found, payment_form=form, status=400)
    back = external_url("campaigns.campaign", org_id=organization.id, campaign_id=found.id)
    target = billing.start_payment(found, form.method.data, return_url=back, by=current_user)
    if target:
        return redirect(target, 303)
    flash(_("The quote is accepted. Transfer the amount with the reference below: the campaign "
            "is paid once the transfer is received."), "success")
    return _back_to(organization, found)


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/documents/<int:document_id>.pdf")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def document_file(organization, membership, campaign_id, document_id):
    found = _campaign(organization, campaign_id)
    document = billing.document_of(found, document_id) or abort(404)
    return Response(document_pdf(document), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{document.number}.pdf"'})


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/beneficiaries/<int:beneficiary_id>"
         "/cancel-card")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def cancel_card(organization, membership, campaign_id, beneficiary_id):
    found, beneficiary = _campaign_and_beneficiary(organization, campaign_id, beneficiary_id)
    form = CancelCardForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        raise CampaignError(_("Say why the card is cancelled (200 characters at most)."),
                            status_code=400)
    note = billing.cancel_card(found, beneficiary, reason=form.reason.data, by=current_user)
    flash(_("The card of %(name)s is cancelled; credit note %(number)s is in the campaign's "
            "documents.", name=beneficiary.full_name, number=note.number), "success")
    return redirect(url_for(".beneficiaries", org_id=organization.id, campaign_id=found.id,
                            page=request.args.get("page", 1, type=int)), 303)


# --- URSSAF ----------------------------------------------------------------------------------

@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/urssaf")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def check(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    result = urssaf.check_campaign(found)
    return render_template(
        "campaigns/urssaf.html", organization=organization, membership=membership,
        campaign=found, check=result, at_risk=[line for line in result.lines
                                               if line.at_risk_cents or line.other_at_risk_cents],
        acknowledged=services.risk_acknowledged(found, result),
        editable=found.status in services.EDITABLE, confirm_form=ConfirmForm(),
        rule_labels=urssaf.RULE_LABELS)


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/urssaf/acknowledge")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def acknowledge(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    form = ConfirmForm()
    if not form.validate_on_submit() or request.form.get("knowingly") != "yes":
        flash(_("Tick the box to confirm that you go ahead knowingly."), "error")
        return redirect(url_for(".check", org_id=organization.id, campaign_id=found.id))
    services.acknowledge_risk(found, by=current_user)
    flash(_("Your decision is recorded."), "success")
    return redirect(url_for(".check", org_id=organization.id, campaign_id=found.id))


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/compliance.csv")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def compliance_csv(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    text = compliance.compliance_csv(urssaf.check_campaign(found))
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="conformite-urssaf-{found.id}.csv"'})


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/compliance.pdf")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def compliance_pdf(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    data = compliance.compliance_pdf(urssaf.check_campaign(found),
                                     site_name=current_app.config["SITE_NAME"])
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="conformite-urssaf-{found.id}.pdf"'})


# --- sending the cards -----------------------------------------------------------------------

@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/send")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def send(organization, membership, campaign_id):
    """Send now the cards not sent yet (the sending date has come; the job does it hourly)."""
    found = _campaign(organization, campaign_id)
    if not SendForm().validate_on_submit():
        abort(400)
    if found.send_on > sending.local_today():
        raise CampaignError(_("The cards leave on %(date)s, the sending date of the campaign.",
                              date=format_day(found.send_on, "long")), status_code=409)
    count = sending.queue_sending(found, by=current_user)
    flash(ngettext("%(num)d card is on its way.", "%(num)d cards are on their way.", count)
          if count else _("Every card is sent or on its way already."), "success")
    return redirect(url_for(".sent", org_id=organization.id, campaign_id=found.id), 303)


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/sending")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def sent(organization, membership, campaign_id):
    """Where the sending stands, and the addresses to correct."""
    found = _campaign(organization, campaign_id)
    return _sending_page(organization, membership, found)


def _sending_page(organization, membership, found: Campaign, *, forms: dict | None = None,
                  status: int = 200):
    failed = list(db.session.scalars(sending.failed(found).limit(500)))
    forms = forms or {}
    return render_template(
        "campaigns/sending.html", organization=organization, membership=membership,
        campaign=found, progress=sending.progress(found), failed=failed,
        forms={b.id: forms.get(b.id) or ResendForm(formdata=None, email=b.email) for b in failed},
        send_form=SendForm(), may_send_now=found.send_on <= sending.local_today()), status


@bp.post("/orgs/<int:org_id>/campaigns/<int:campaign_id>/beneficiaries/<int:beneficiary_id>"
         "/resend")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def resend(organization, membership, campaign_id, beneficiary_id):
    found, beneficiary = _campaign_and_beneficiary(organization, campaign_id, beneficiary_id)
    form = ResendForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _sending_page(organization, membership, found, forms={beneficiary.id: form},
                             status=400)
    try:
        changed = sending.resend(beneficiary, form.email.data, by=current_user)
    except CampaignError as exc:
        if exc.field != "email":
            raise
        form.email.errors.append(str(exc.message))
        return _sending_page(organization, membership, found, forms={beneficiary.id: form},
                             status=exc.status_code or 400)
    flash(_("The card of %(name)s is on its way to %(email)s with a new code; the old one no "
            "longer works.", name=beneficiary.full_name, email=beneficiary.email) if changed
          else _("The card of %(name)s is on its way again to %(email)s.",
                 name=beneficiary.full_name, email=beneficiary.email), "success")
    return redirect(url_for(".sent", org_id=organization.id, campaign_id=found.id), 303)


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/cards.pdf")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def cards_file(organization, membership, campaign_id):
    """The campaign's cards to print and hand over: ?layout=a6 (one per page) or a4x4."""
    found = _campaign(organization, campaign_id)
    layout = request.args.get("layout", "a6")
    if layout not in printing.LAYOUTS:
        abort(400)
    if found.status != CampaignStatus.ISSUED:
        raise CampaignError(_("The cards of this campaign are not issued yet."), status_code=409)
    return Response(printing.cards_pdf(found, layout=layout), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="cartes-{found.id}-{layout}.pdf"',
                             "Cache-Control": "no-store"})


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/signature-sheet.pdf")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def signature_sheet(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    if found.status != CampaignStatus.ISSUED:
        raise CampaignError(_("The cards of this campaign are not issued yet."), status_code=409)
    return Response(printing.signature_sheet_pdf(found, site_name=current_app.config["SITE_NAME"]),
                    mimetype="application/pdf", headers={
                        "Content-Disposition":
                        f'attachment; filename="emargement-{found.id}.pdf"'})


# --- reminders: the employee's one-click opt-out (no login) ------------------------------------

@bp.route("/reminders/off/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority; mail clients POST it (RFC 8058 one-click)
def reminders_off(token: str):
    """GET: a page with one button (mail scanners open links; they do not press buttons).
    POST (the button, or the mail client's List-Unsubscribe-Post): no more reminders."""
    beneficiary = reminders.beneficiary_for_token(token)
    if beneficiary is None:
        abort(404)
    done = beneficiary.reminders_off_at is not None
    if request.method == "POST":
        reminders.opt_out(beneficiary)
        done = True
    return private(Response(render_template("campaigns/reminders_off.html",
                                            beneficiary=beneficiary, done=done)))


# --- the dashboard -----------------------------------------------------------------------------

@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/dashboard")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def follow(organization, membership, campaign_id):
    """Cards sent, opened, spent; spending per day and per kind of seller (charts drawn on the
    server, with the same figures as tables); the balances employees agreed to show."""
    found = _campaign(organization, campaign_id)
    days = dashboard.spending_by_day(found)
    kinds = dashboard.spending_by_kind(found)
    shared = dashboard.lines(found, shared_only=True, limit=SHARED_LIMIT)
    return render_template(
        "campaigns/dashboard.html", organization=organization, membership=membership,
        campaign=found, figures=dashboard.figures(found), days=days, kinds=kinds,
        kind_labels=ESS_STATUS_LABELS, shared=shared,
        day_chart=dashboard.bar_chart([(format_day(d.day, "medium"), d.cents) for d in days]),
        kind_chart=dashboard.bar_chart([(str(ESS_STATUS_LABELS[k.kind]), k.cents)
                                        for k in kinds]),
        failed=sending.progress(found).failed)


def _dashboard_rows(found: Campaign):
    header = [_("Line"), _("Last name"), _("First name"), _("Email"), _("Employee number"),
              _("Amount"), _("Sent"), _("Opened"), _("Balance (if the employee agreed)")]
    rows = [[line.beneficiary.line, line.beneficiary.last_name, line.beneficiary.first_name,
             line.beneficiary.email, line.beneficiary.employee_number or "",
             line.beneficiary.amount_cents, bool(line.beneficiary.sent_at), line.opened,
             line.balance_cents] for line in dashboard.lines(found)]
    return header, rows


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/dashboard.csv")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def follow_csv(organization, membership, campaign_id):
    found = _campaign(organization, campaign_id)
    header, rows = _dashboard_rows(found)
    yes, no = _("yes"), _("no")
    return csv_response(header, ([r[0], r[1], r[2], r[3], r[4], amount(r[5]), yes if r[6] else no,
                                  yes if r[7] else no, amount(r[8])] for r in rows),
                        filename=f"operation-{found.id}-suivi.csv")


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/dashboard.xlsx")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def follow_xlsx(organization, membership, campaign_id):
    import io

    from openpyxl import Workbook

    found = _campaign(organization, campaign_id)
    header, rows = _dashboard_rows(found)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Follow-up")[:31])
    sheet.append([str(title) for title in header])
    yes, no = _("yes"), _("no")
    for r in rows:
        # Texts a person typed start with a quote if a spreadsheet would run them as formulas.
        sheet.append([r[0], *(_safe(value) for value in r[1:5]), r[5] / 100,
                      yes if r[6] else no, yes if r[7] else no,
                      None if r[8] is None else r[8] / 100])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), headers={
        "Content-Disposition": f'attachment; filename="operation-{found.id}-suivi.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _safe(value):
    return cell(value)
