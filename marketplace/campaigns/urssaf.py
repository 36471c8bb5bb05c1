"""The URSSAF check of a campaign, per employee and calendar year, across every campaign of the
works council that year (cancelled ones aside), employees matched by employee number, else by
email (DOMAIN.md, "Works councils and URSSAF"):

1. all the vouchers of the year total at most 5 % of the year's PMSS: exempt, nothing else asked;
2. above it, each voucher must be tied to an event, stay within that event's limit (5 % of the
   PMSS; at Christmas per person, the employee and each child up to 16; at back-to-school per
   child under 26) and be spent only on goods linked to the event (its restriction profile).

A voucher that fails is reassessed by URSSAF on its whole amount, so the whole amount is at
risk, not the excess."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext

from marketplace.campaigns.models import (
    Beneficiary,
    Campaign,
    CampaignEvent,
    CampaignStatus,
)
from marketplace.campaigns.restrictions import profile_fits_event
from marketplace.campaigns.services import CampaignError, pmss_cents
from marketplace.db import db
from marketplace.i18n import format_rate, lazy_text
from marketplace.i18n import lazy_gettext as _l

# Why a voucher is exempt, or at risk (codes; their sentences are in labels below).
YEARLY = "yearly"  # within 5 % of the PMSS for the whole year
EVENT = "event"  # above it, but tied to its event and within the event's limit
NO_EVENT = "no_event"
EVENT_LIMIT = "event_limit"
NO_CHILD = "no_child"
USE_NOT_LINKED = "use_not_linked"

# The 5 % is written by Babel in the reader's language ("5 %" in French, "5%" in English).
RULE_LABELS = {
    YEARLY: lazy_text(lambda: gettext("Yearly total within %(rate)s of the PMSS",
                                      rate=format_rate(500))),
    EVENT: _l("Tied to its event, within the event's limit"),
    NO_EVENT: lazy_text(lambda: gettext(
        "Above %(rate)s of the PMSS for the year, and tied to no event", rate=format_rate(500))),
    EVENT_LIMIT: _l("Above the event's limit"),
    NO_CHILD: _l("Back to school: no child declared"),
    USE_NOT_LINKED: _l("The card may buy goods that have nothing to do with the event"),
}


@dataclass
class Voucher:
    """One beneficiary line of one campaign of the year."""

    campaign_id: int
    beneficiary_id: int
    event: CampaignEvent
    amount_cents: int
    children: int
    fits_event: bool  # its restriction profile ties its use to the event
    order: tuple  # (send date, campaign id): the order of the year's running total
    exempt: bool = True
    reasons: list[str] = field(default_factory=list)


@dataclass
class LineCheck:
    """The verdict on one beneficiary of the campaign checked."""

    beneficiary: Beneficiary
    year_total_cents: int  # every campaign of the year
    running_total_cents: int  # campaigns of the year sent up to this one, this one included
    limit_cents: int  # the limit the rule applied compares with
    rule: str  # YEARLY or EVENT when exempt, else the first reason at risk
    reasons: list[str]
    at_risk_cents: int  # this campaign's voucher, in full, when it fails
    other_at_risk_cents: int  # the employee's vouchers of other campaigns of the year that fail

    @property
    def exempt(self) -> bool:
        return not self.at_risk_cents


@dataclass
class CampaignCheck:
    campaign: Campaign
    year: int
    pmss_cents: int
    threshold_cents: int  # 5 % of the PMSS
    lines: list[LineCheck]

    @property
    def at_risk_cents(self) -> int:
        """What URSSAF could reassess: the failing vouchers of this campaign, and those of the
        same employees in the year's other campaigns."""
        return sum(line.at_risk_cents + line.other_at_risk_cents for line in self.lines)

    @property
    def campaign_at_risk_cents(self) -> int:
        return sum(line.at_risk_cents for line in self.lines)

    @property
    def lines_at_risk(self) -> int:
        return sum(1 for line in self.lines if line.at_risk_cents or line.other_at_risk_cents)

    @property
    def total_cents(self) -> int:
        return sum(line.beneficiary.amount_cents for line in self.lines)


def threshold_cents(year: int) -> int:
    pmss = pmss_cents(year)
    if pmss is None:
        raise CampaignError(_l("The URSSAF limits of %(year)s are not known to the platform yet.",
                               year=year))
    return pmss * 5 // 100  # 200,25 EUR in 2026: the PMSS is a whole number of euros


def event_limit_cents(event: CampaignEvent, children: int, threshold: int) -> int:
    """The most an employee's vouchers for `event` may total in the year (second step)."""
    if event == CampaignEvent.CHRISTMAS:
        return threshold * (1 + children)  # the employee, and each child up to 16
    if event == CampaignEvent.BACK_TO_SCHOOL:
        return threshold * children  # each child under 26
    return threshold


def _employee_groups(rows) -> list[list]:
    """Lines grouped per employee: the same employee number, or, when a line has none, the same
    email."""
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i, j):
        a, b = find(i), find(j)
        if a != b:
            parent[b] = a

    by_number: dict[str, int] = {}
    by_email: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.employee_number:
            first = by_number.setdefault(row.employee_number.strip().upper(), i)
            union(first, i)
        by_email[row.email.lower()].append(i)
    for indexes in by_email.values():
        if len(indexes) < 2:
            continue
        without_number = [i for i in indexes if not rows[i].employee_number]
        for i in without_number:  # a line without a number joins every line of its email
            for j in indexes:
                union(i, j)
    groups: dict[int, list] = defaultdict(list)
    for i in range(len(rows)):
        groups[find(i)].append(i)
    return list(groups.values())


def check_campaign(campaign: Campaign) -> CampaignCheck:
    """The verdict on every beneficiary of `campaign`, with the year's other campaigns."""
    year = campaign.year
    threshold = threshold_cents(year)
    campaigns = {c.id: c for c in db.session.scalars(
        sa.select(Campaign).where(Campaign.organization_id == campaign.organization_id,
                                  Campaign.year == year,
                                  Campaign.status != CampaignStatus.CANCELLED))}
    campaigns[campaign.id] = campaign
    fits = {cid: profile_fits_event(c.restriction_profile, c.event) for cid, c in campaigns.items()}
    rows = db.session.execute(
        sa.select(Beneficiary.id, Beneficiary.campaign_id, Beneficiary.email,
                  Beneficiary.employee_number, Beneficiary.amount_cents, Beneficiary.children)
        .where(Beneficiary.campaign_id.in_(sorted(campaigns)))).all()
    vouchers = [Voucher(campaign_id=row.campaign_id, beneficiary_id=row.id,
                        event=campaigns[row.campaign_id].event, amount_cents=row.amount_cents,
                        children=row.children, fits_event=fits[row.campaign_id],
                        order=(campaigns[row.campaign_id].send_on, row.campaign_id))
                for row in rows]
    mine = {v.beneficiary_id: v for v in vouchers if v.campaign_id == campaign.id}
    verdicts: dict[int, tuple] = {}
    for group in _employee_groups(rows):
        employee = [vouchers[i] for i in group]
        year_total = sum(v.amount_cents for v in employee)
        limits = _judge(employee, year_total, threshold)
        for voucher in employee:
            if voucher.campaign_id != campaign.id:
                continue
            running = sum(v.amount_cents for v in employee if v.order <= voucher.order)
            others = sum(v.amount_cents for v in employee
                         if v.campaign_id != campaign.id and not v.exempt)
            verdicts[voucher.beneficiary_id] = (year_total, running, limits[voucher.event],
                                                others)
    lines = []
    for beneficiary in db.session.scalars(
            sa.select(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
            .order_by(Beneficiary.line, Beneficiary.id)):
        voucher = mine[beneficiary.id]
        year_total, running, limit, others = verdicts[beneficiary.id]
        if year_total <= threshold:
            rule, limit = YEARLY, threshold
        else:
            rule = voucher.reasons[0] if voucher.reasons else EVENT
        lines.append(LineCheck(
            beneficiary=beneficiary, year_total_cents=year_total, running_total_cents=running,
            limit_cents=limit, rule=rule, reasons=list(voucher.reasons),
            at_risk_cents=0 if voucher.exempt else voucher.amount_cents,
            other_at_risk_cents=others))
    return CampaignCheck(campaign=campaign, year=year, pmss_cents=pmss_cents(year),
                         threshold_cents=threshold, lines=lines)


def _judge(employee: list[Voucher], year_total: int, threshold: int) -> dict:
    """Mark each voucher of one employee's year exempt or not; returns the limit per event."""
    by_event: dict[CampaignEvent, list[Voucher]] = defaultdict(list)
    for voucher in employee:
        by_event[voucher.event].append(voucher)
    limits = {}
    for event, vouchers in by_event.items():
        children = max(v.children for v in vouchers)
        limits[event] = event_limit_cents(event, children, threshold)
    if year_total <= threshold:
        return limits
    for event, vouchers in by_event.items():
        event_total = sum(v.amount_cents for v in vouchers)
        for voucher in vouchers:
            if event == CampaignEvent.NONE:
                voucher.reasons.append(NO_EVENT)
                continue
            if event == CampaignEvent.BACK_TO_SCHOOL and voucher.children == 0:
                voucher.reasons.append(NO_CHILD)
            elif event_total > limits[event]:
                voucher.reasons.append(EVENT_LIMIT)
            if not voucher.fits_event:
                voucher.reasons.append(USE_NOT_LINKED)
    for voucher in employee:
        voucher.exempt = not voucher.reasons
    return limits
