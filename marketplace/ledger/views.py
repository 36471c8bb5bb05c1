"""The seller's "What we owe you" page (balance, account, commission, payout schedule, the
statement of a period, to download as CSV or PDF) and its Stripe Connect onboarding."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_percent
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace import exports, money
from marketplace.i18n import local_today
from marketplace.ledger import pdf
from marketplace.ledger import services as ledger
from marketplace.ledger.labels import kind_label, payout_status_label
from marketplace.ledger.statement import (
    Period,
    StatementError,
    parse_period,
    statement,
)
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.payments.gateway import GatewayError, get_gateway
from marketplace.urls import external_url

bp = Blueprint("ledger", __name__)

bp.add_app_template_global(kind_label, "ledger_kind")
bp.add_app_template_global(payout_status_label, "payout_status")


def percent(rate_bp: int) -> str:
    """10 % in French, 10% in English; 5,5 % when there are decimals."""
    return format_percent(Decimal(rate_bp).scaleb(-4), locale=get_locale(),
                          decimal_quantization=False)


def _period() -> Period:
    return parse_period(request.args.get("start"), request.args.get("end"), today=local_today())


def _period_error(organization, membership, exc: StatementError):
    return _page(organization, membership, Period.month_of(local_today()), error=exc.message,
                 status=400)


def _page(organization, membership, period: Period, *, error=None, status=200):
    rate = ledger.commission_rate_bp(organization)
    example = 2000
    today = local_today()
    this_month = Period.month_of(today)
    return render_template(
        "ledger/owed.html", organization=organization, membership=membership,
        balance=ledger.balance(organization.id), payouts=ledger.payouts(organization.id),
        statement=statement(organization, period), period=period, error=error,
        presets=[
            (_("This month"), this_month), (_("Last month"), this_month.previous_month()),
            (_("This year"), Period.year_of(today)),
            (_("Last year"), Period.year_of(today.replace(year=today.year - 1, day=1))),
        ],
        rate=percent(rate), example_cents=example,
        example_commission_cents=money.commission_cents(example, rate),
        minimum_cents=current_app.config["PAYOUT_MINIMUM_CENTS"],
        demo=get_gateway().name == "demo",
    ), status


@bp.get("/orgs/<int:org_id>/payouts")
@member_required(Role.MANAGER)
def owed(organization, membership):
    try:
        period = _period()
    except StatementError as exc:
        return _period_error(organization, membership, exc)
    return _page(organization, membership, period)


def _filename(organization, period: Period, extension: str) -> str:
    return f"statement-{organization.slug}-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.{extension}"


def _csv_header() -> list[str]:
    return [_("Date"), _("Operation"), _("Reference"), _("Gross amount (€)"),
            _("Commission (€)"), _("Net amount (€)"), _("Balance (€)")]


@bp.get("/orgs/<int:org_id>/payouts/statement.csv")
@member_required(Role.MANAGER)
def statement_csv(organization, membership):
    """The statement as a spreadsheet: one row per entry between the opening and closing
    balances, then the period's totals; amounts as numbers (decimal comma in French)."""
    try:
        period = _period()
    except StatementError as exc:
        return _period_error(organization, membership, exc)
    result = statement(organization, period)
    rows = [[exports.local_date(period.start), _("Opening balance"), "", "", "", "",
             exports.amount(result.opening_cents)]]
    for line in result.lines:
        entry = line.entry
        rows.append([
            exports.local_date(entry.created_at), kind_label(entry.kind),
            exports.cell(line.reference),
            "" if line.is_payout else exports.amount(entry.gross_cents),
            "" if line.is_payout else exports.amount(entry.commission_cents),
            exports.amount(entry.amount_cents), exports.amount(line.balance_after_cents),
        ])
    rows.append(["", _("Total for the period"), "", exports.amount(result.gross_cents),
                 exports.amount(result.commission_cents), exports.amount(result.net_cents), ""])
    rows.append([exports.local_date(period.end), _("Closing balance"), "", "", "", "",
                 exports.amount(result.closing_cents)])
    return exports.csv_response(_csv_header(), rows,
                                filename=_filename(organization, period, "csv"))


@bp.get("/orgs/<int:org_id>/payouts/statement.pdf")
@member_required(Role.MANAGER)
def statement_pdf(organization, membership):
    try:
        period = _period()
    except StatementError as exc:
        return _period_error(organization, membership, exc)
    result = statement(organization, period)
    document = pdf.statement_pdf(
        result, rate=percent(ledger.commission_rate_bp(organization)),
        site_name=current_app.config["SITE_NAME"])
    return Response(document, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_filename(organization, period, "pdf")}"'})


@bp.post("/orgs/<int:org_id>/payouts/connect")
@member_required(Role.OWNER)
def connect(organization, membership):
    try:
        url = ledger.start_onboarding(
            organization,
            refresh_url=external_url("ledger.owed", org_id=organization.id),
            return_url=external_url("ledger.connected", org_id=organization.id),
        )
    except GatewayError as exc:
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
        flash(str(exc.message), "error")
    else:
        if enabled:
            flash(_("Your account is ready: payouts will be sent to it."), "success")
        else:
            flash(_("Stripe still needs some information: finish the onboarding to receive payouts."),
                  "warning")
    return redirect(url_for(".owed", org_id=organization.id))
