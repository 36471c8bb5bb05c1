"""The seller's "Accounting" pages: a period's figures, its CSV and FEC, the commission invoices
with their PDF and Factur-X, the accounts the FEC uses."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounting import einvoice, files, queries
from marketplace.accounting import journal as journals
from marketplace.accounting.forms import SettingsForm
from marketplace.accounting.models import ACCOUNT_FIELDS, CommissionInvoice
from marketplace.accounting.services import VAT_RATES_BP, SettingsError, save_settings, settings_of
from marketplace.db import db
from marketplace.i18n import local_today
from marketplace.invoicing.pdf import document_pdf
from marketplace.ledger.statement import Period, StatementError, parse_period
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role

bp = Blueprint("accounting", __name__)


def _period() -> Period:
    return parse_period(request.args.get("start"), request.args.get("end"), today=local_today())


def _page(organization, membership, period: Period, *, error=None, status=200):
    settings = settings_of(organization)
    result = journals.journal(organization, period, settings)
    today = local_today()
    this_month = Period.month_of(today)
    return render_template(
        "accounting/index.html", organization=organization, membership=membership,
        period=period, error=error, figures=journals.summary(result), entries=len(result.entries),
        invoices=queries.commission_invoices_of(organization.id), settings=settings,
        presets=[(_("Last month"), this_month.previous_month()),
                 (_("This year"), Period.year_of(today)),
                 (_("Last year"), Period.year_of(today.replace(year=today.year - 1, day=1)))],
    ), status


def _period_or_error(organization, membership):
    try:
        return _period(), None
    except StatementError as exc:
        return None, _page(organization, membership, Period.month_of(local_today()),
                           error=exc.message, status=400)


@bp.get("/orgs/<int:org_id>/accounting")
@member_required(Role.MANAGER)
def index(organization, membership):
    period, refused = _period_or_error(organization, membership)
    return refused or _page(organization, membership, period)


@bp.get("/orgs/<int:org_id>/accounting/summary.csv")
@member_required(Role.MANAGER)
def summary_csv(organization, membership):
    period, refused = _period_or_error(organization, membership)
    if refused:
        return refused
    result = journals.journal(organization, period, settings_of(organization))
    name = f"comptabilite-{organization.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return Response(files.summary_csv(result, journals.summary(result)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/orgs/<int:org_id>/accounting/fec.txt")
@member_required(Role.MANAGER)
def fec(organization, membership):
    period, refused = _period_or_error(organization, membership)
    if refused:
        return refused
    result = journals.journal(organization, period, settings_of(organization))
    try:
        name = files.fec_filename(result)
    except files.FecError as exc:
        return _page(organization, membership, period, error=exc.message, status=409)
    return Response(files.fec_text(result), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _invoice_of(organization, invoice_id: int) -> CommissionInvoice:
    invoice = db.session.get(CommissionInvoice, invoice_id)
    if invoice is None or invoice.organization_id != organization.id:
        abort(404)
    return invoice


def pdf_response(document, *, facturx: bool) -> Response:
    if facturx:
        body, name = einvoice.facturx_pdf(document), einvoice.filename(document)
    else:
        body, name = document_pdf(document), f"{document.number}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.get("/orgs/<int:org_id>/accounting/invoices/<int:invoice_id>.pdf")
@member_required(Role.MANAGER)
def invoice_pdf(organization, membership, invoice_id: int):
    return pdf_response(_invoice_of(organization, invoice_id).document,
                facturx=request.args.get("format") == "facturx")


@bp.route("/orgs/<int:org_id>/accounting/settings", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def settings(organization, membership):
    current = settings_of(organization)
    form = SettingsForm(rates=VAT_RATES_BP, data={
        **{name: getattr(current, name) for name in ACCOUNT_FIELDS},
        "counter_vat_rate_bp": str(current.counter_vat_rate_bp),
        "vat_number": current.vat_number or ""})
    if organization.vat_exempt:  # under the VAT franchise: no VAT at the counter either
        del form.counter_vat_rate_bp
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            values = {"counter_vat_rate_bp": 0, **{name: form[name].data for name in form.data}}
            try:
                save_settings(organization, values, by=current_user)
            except SettingsError as exc:
                for name, message in exc.errors.items():
                    form[name].errors = [*form[name].errors, message]
                flash(str(exc.message), "error")
                status = 400
            else:
                flash(_("Your accounting settings are saved."), "success")
                return redirect(url_for(".index", org_id=organization.id), 303)
        else:
            status = 400
    return render_template("accounting/settings.html", organization=organization,
                           membership=membership, form=form, fields=ACCOUNT_FIELDS), status
