"""The seller's dashboard (audience, orders, slots, gift cards) and the impact reports (PDF)."""
from __future__ import annotations

from datetime import date

from babel import Locale
from babel.numbers import format_percent
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from marketplace.campaigns.models import Campaign
from marketplace.errors import render_error
from marketplace.i18n import current_locale_code, format_day, local_today
from marketplace.i18n import money_filter as format_money
from marketplace.insights import charts, impact, queries, report
from marketplace.insights.periods import PeriodError, read_period
from marketplace.organizations.access import WORKS_COUNCILS, member_required, owned_or_404
from marketplace.organizations.models import Role

bp = Blueprint("insights", __name__)

DAY_CHART_MAX_DAYS = 62  # longer periods are drawn per week only


def today() -> date:
    return local_today()


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    locale = Locale.parse(current_locale_code())
    pattern = locale.percent_formats[None].pattern.split(";")[0]
    head, _sep, tail = pattern.rpartition("0")
    return format_percent(value, format=f"{head}0.0{tail}", locale=locale)


def _weekday_name(weekday: int) -> str:
    from babel.dates import get_day_names

    return get_day_names("wide", locale=current_locale_code())[weekday]


def _series_charts(days: list[queries.Day], label) -> dict:
    def chart(title: str, values: list[int], text) -> dict:
        top = max(values, default=0)
        return charts.columns([(label(d.day), v) for d, v in zip(days, values, strict=True)],
                              top_text=_("%(what)s · highest: %(value)s", what=title, value=text(top)))

    return {"views": chart(_("Views"), [d.views for d in days], str),
            "orders": chart(_("Orders"), [d.orders for d in days], str),
            "revenue": chart(_("Revenue"), [d.revenue_cents for d in days], format_money)}


@bp.get("/orgs/<int:org_id>/dashboard")
@member_required(Role.MANAGER)
def dashboard(organization, membership):
    """Views, orders and revenue per day and per week, top products, pickup slots, gift cards,
    where visitors came from; each chart with its table; a period picker."""
    now = today()
    context = {"organization": organization, "membership": membership, "args": request.args,
               "today": now, "percent": percent, "weekday_name": _weekday_name,
               "years": report_years(organization.created_at.date())}
    try:
        choice, period = read_period(request.args, now)
    except PeriodError as exc:
        return render_template("insights/dashboard.html", error=str(exc.message), choice="custom",
                               data=None, **context), 400
    data = queries.dashboard(organization.id, period)
    short = lambda day: format_day(day, "short")  # noqa: E731
    product_chart = charts.bars([(p.title, p.revenue_cents, format_money(p.revenue_cents))
                                 for p in data.products])
    slot_chart = charts.bars([(f"{_weekday_name(s.weekday)} {s.start:%H:%M}", s.orders, str(s.orders))
                              for s in data.busy_slots])
    return render_template(
        "insights/dashboard.html", error=None, choice=choice, data=data,
        show_days=len(data.days) <= DAY_CHART_MAX_DAYS,
        day_charts=_series_charts(data.days, short), week_charts=_series_charts(data.weeks, short),
        product_chart=product_chart, slot_chart=slot_chart, **context)


@bp.get("/orgs/<int:org_id>/impact/<int:year>.pdf")
@member_required(Role.MANAGER)
def seller_report(organization, membership, year: int):
    """The seller's impact report for a calendar year."""
    if not 2020 <= year <= today().year:
        return render_error(404, _("There is no report for this year."))
    found = impact.seller_impact(organization.id, year)
    data = report.report_pdf(
        title=_("Impact report %(year)d", year=year), subject=organization.name,
        period=_("From %(start)s to %(end)s", start=format_day(date(year, 1, 1)),
                 end=format_day(min(date(year, 12, 31), today()))),
        impact=found)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="impact-{organization.slug}-{year}.pdf"'})


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/impact.pdf")
@member_required(Role.MANAGER, kinds=WORKS_COUNCILS)
def campaign_report(organization, membership, campaign_id: int):
    """What the employees' cards of a campaign did: its impact report."""
    found = owned_or_404(Campaign, campaign_id, organization)
    data = report.report_pdf(
        title=_("Impact report of “%(name)s”", name=found.name), subject=organization.name,
        period=_("Until %(day)s", day=format_day(today())),
        impact=impact.campaign_impact(found), campaign=True)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="impact-campaign-{found.id}.pdf"'})


def report_years(first: date | None) -> list[int]:
    """The years a seller can download a report for: from its first year to this one."""
    this_year = today().year
    start = max(2020, first.year if first else this_year)
    return list(range(this_year, start - 1, -1))

