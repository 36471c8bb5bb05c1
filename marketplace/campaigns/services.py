"""Campaign operations: create and change a campaign, its beneficiaries, and the one function
that moves it from state to state (draft -> beneficiaries imported -> quoted -> paid ->
issued, or cancelled). Services flush and audit; the unit of work commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from marketplace import audit
from marketplace.campaigns.labels import STATUS_LABELS
from marketplace.campaigns.models import (
    AmountMode,
    Beneficiary,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    RestrictionProfile,
    UnspentPolicy,
)
from marketplace.campaigns.restrictions import forbidden_categories
from marketplace.campaigns.signals import campaign_paid, cards_issued
from marketplace.catalog.models import Category
from marketplace.db import db, lock_rows, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import local_today, money_filter
from marketplace.organizations.models import (
    SELLER_KINDS,
    Organization,
    OrganizationKind,
    OrganizationStatus,
)


class CampaignError(DomainError):
    """A campaign change that the rules refuse; `field` names the form field at fault."""

    def __init__(self, message, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message, status_code=status_code)
        self.field = field


# The legal moves; anything else is refused (CampaignError).
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.BENEFICIARIES_IMPORTED,
                                     CampaignStatus.CANCELLED}),
    CampaignStatus.BENEFICIARIES_IMPORTED: frozenset({CampaignStatus.QUOTED,
                                                      CampaignStatus.CANCELLED}),
    # A withdrawn quote sends the campaign back to its list (to change it, then quote again).
    CampaignStatus.QUOTED: frozenset({CampaignStatus.PAID, CampaignStatus.BENEFICIARIES_IMPORTED,
                                      CampaignStatus.CANCELLED}),
    CampaignStatus.PAID: frozenset({CampaignStatus.ISSUED}),
    CampaignStatus.ISSUED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.BENEFICIARIES_IMPORTED})


@dataclass
class CampaignSettings:
    """What the works council chooses for a campaign (the form's values, checked here)."""

    name: str
    event: CampaignEvent
    year: int
    send_on: date
    validity_months: int
    amount_mode: AmountMode
    amount_cents: int | None
    unspent_policy: UnspentPolicy
    unspent_association_id: int | None = None
    # None: the cards may be spent on anything (only for a campaign without an event).
    category_slugs: set[str] | None = None
    seller_ids: set[int] = field(default_factory=set)


def pmss_cents(year: int) -> int | None:
    """The year's monthly social security ceiling (config URSSAF_PMSS_CENTS), or None."""
    return current_app.config["URSSAF_PMSS_CENTS"].get(int(year))


def campaign_years() -> list[int]:
    return sorted(current_app.config["URSSAF_PMSS_CENTS"])


def card_max_cents() -> int:
    return int(current_app.config["CAMPAIGN_CARD_MAX_CENTS"])


def _check(settings: CampaignSettings, organization: Organization, *, today: date) -> None:
    if not settings.name.strip():
        raise CampaignError(_l("Give the campaign a name."), field="name")
    if pmss_cents(settings.year) is None:
        raise CampaignError(_l("The URSSAF limits of %(year)s are not known to the platform yet.",
                               year=settings.year), field="year")
    if settings.send_on.year != settings.year:
        raise CampaignError(_l("The cards must be sent during %(year)s, the year URSSAF counts "
                               "them in.", year=settings.year), field="send_on")
    if settings.send_on < today:
        raise CampaignError(_l("The sending date is already past."), field="send_on")
    if settings.validity_months < 12:
        raise CampaignError(_l("The cards are valid for 12 months at least."),
                            field="validity_months")
    if settings.amount_mode == AmountMode.SAME:
        if not settings.amount_cents or settings.amount_cents <= 0:
            raise CampaignError(_l("Give the amount of each card."), field="amount")
        if settings.amount_cents > card_max_cents():
            raise CampaignError(_l("A card can carry %(max)s at most.", max=_money(card_max_cents())),
                                field="amount")
    if settings.unspent_policy == UnspentPolicy.ASSOCIATION:
        association = db.session.get(Organization, settings.unspent_association_id or 0)
        if (association is None or association.kind != OrganizationKind.ASSOCIATION
                or association.status != OrganizationStatus.APPROVED):
            raise CampaignError(_l("Choose the association that will receive what is left on the "
                                   "cards."), field="unspent_association")
    if settings.event != CampaignEvent.NONE and not settings.category_slugs:
        raise CampaignError(_l("A card for an event is spent on goods linked to it: choose at "
                               "least one category."), field="categories")
    forbidden = forbidden_categories(settings.event, settings.category_slugs or ())
    if forbidden:
        raise CampaignError(_l("A card for an event cannot buy everyday food or fuel (URSSAF)."),
                            field="categories")


def _money(cents: int) -> str:
    return money_filter(cents)


def _profile(organization: Organization, settings: CampaignSettings,
             profile: RestrictionProfile | None) -> RestrictionProfile | None:
    if settings.category_slugs is None:
        return None
    categories = list(db.session.scalars(
        sa.select(Category).where(Category.slug.in_(sorted(settings.category_slugs)))))
    if len(categories) != len(settings.category_slugs):
        raise CampaignError(_l("One of the chosen categories does not exist."), field="categories")
    sellers = []
    if settings.seller_ids:
        sellers = list(db.session.scalars(sa.select(Organization).where(
            Organization.id.in_(sorted(settings.seller_ids)),
            Organization.kind.in_(SELLER_KINDS),
            Organization.status == OrganizationStatus.APPROVED)))
        if len(sellers) != len(settings.seller_ids):
            raise CampaignError(_l("One of the chosen sellers is not on the marketplace."),
                                field="sellers")
    if profile is None:
        profile = RestrictionProfile(organization_id=organization.id)
        db.session.add(profile)
    profile.event = settings.event
    profile.categories = categories
    profile.sellers = sellers
    return profile


def _apply(campaign: Campaign, settings: CampaignSettings) -> None:
    campaign.name = settings.name.strip()
    campaign.event = settings.event
    campaign.year = settings.year
    campaign.send_on = settings.send_on
    campaign.validity_months = settings.validity_months
    campaign.amount_mode = settings.amount_mode
    campaign.amount_cents = settings.amount_cents if settings.amount_mode == AmountMode.SAME else None
    campaign.unspent_policy = settings.unspent_policy
    campaign.unspent_association_id = (
        settings.unspent_association_id if settings.unspent_policy == UnspentPolicy.ASSOCIATION
        else None)


def create_campaign(organization: Organization, settings: CampaignSettings, *, by,
                    today: date | None = None) -> Campaign:
    if organization.kind != OrganizationKind.WORKS_COUNCIL:
        raise CampaignError(_l("Only works councils run campaigns."), status_code=403)
    _check(settings, organization, today=today or local_today())
    campaign = Campaign(organization_id=organization.id, status=CampaignStatus.DRAFT,
                        created_by_id=getattr(by, "id", None))
    _apply(campaign, settings)
    campaign.restriction_profile = _profile(organization, settings, None)
    db.session.add(campaign)
    db.session.flush()
    audit.record("campaign.created", campaign, by=by, organization=organization,
                 data={"name": campaign.name, "event": campaign.event.value, "year": campaign.year})
    return campaign


def update_campaign(campaign: Campaign, settings: CampaignSettings, *, by,
                    today: date | None = None) -> None:
    """Change a campaign not yet quoted. With one amount for everyone, every beneficiary's
    amount follows; any change asks again for the URSSAF statement."""
    _lock(campaign)
    if campaign.status not in EDITABLE:
        raise CampaignError(_l("This campaign can no longer be changed."), status_code=409)
    _check(settings, campaign.organization, today=today or local_today())
    _apply(campaign, settings)
    profile = _profile(campaign.organization, settings, campaign.restriction_profile)
    if profile is None and campaign.restriction_profile is not None:
        db.session.delete(campaign.restriction_profile)
    campaign.restriction_profile = profile
    if campaign.amount_mode == AmountMode.SAME:
        db.session.execute(sa.update(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
                           .values(amount_cents=campaign.amount_cents)
                           .execution_options(synchronize_session=False))
    clear_risk_acknowledgement(campaign)
    db.session.flush()
    audit.record("campaign.updated", campaign, by=by, organization=campaign.organization,
                 data={"name": campaign.name})


# --- states ----------------------------------------------------------------------------------

def _lock(campaign: Campaign) -> Campaign:
    lock_rows(Campaign, [campaign.id])  # re-reads the status under the lock
    return campaign


def move(campaign: Campaign, to: CampaignStatus, *, by, reason: str | None = None,
         stamp: str | None = None) -> None:
    """The one way a campaign changes state: under its row lock, refusing an illegal move.
    `stamp` names the column that dates the move (paid_at, issued_at), written by the same
    UPDATE as the state. Not by a second one: PostgreSQL checks the foreign keys of a row
    updated twice in one transaction again, and the check of campaign.order_id would lock the
    card payment's order after the campaign, the reverse of a payment's order (order, then
    pro-forma, then campaign: campaigns.card_payment), and deadlock with it."""
    _lock(campaign)
    to = CampaignStatus(to)
    before = campaign.status
    if to not in TRANSITIONS[before]:
        raise CampaignError(_l("This campaign cannot go from “%(before)s” to “%(after)s”.",
                               before=_status_label(before), after=_status_label(to)),
                            status_code=409)
    campaign.status = to
    if stamp is not None:
        setattr(campaign, stamp, utcnow())
    if to == CampaignStatus.CANCELLED:
        campaign.cancelled_at = utcnow()
        campaign.cancel_reason = (reason or "").strip()[:300] or None
    db.session.flush()
    audit.record("campaign.cancelled" if to == CampaignStatus.CANCELLED else "campaign.moved",
                 campaign, by=by, organization=campaign.organization,
                 data={"name": campaign.name, "from": before.value, "to": to.value,
                       **({"reason": campaign.cancel_reason} if campaign.cancel_reason else {})})


def _status_label(status: CampaignStatus):
    return STATUS_LABELS[status]


def ready_for_quote(campaign: Campaign) -> list:
    """What still stands in the way of a quote (messages); empty when it may be quoted."""
    from marketplace.campaigns import urssaf

    missing = []
    if campaign.status != CampaignStatus.BENEFICIARIES_IMPORTED:
        missing.append(_l("The beneficiaries are not imported."))
        return missing
    check = urssaf.check_campaign(campaign)
    if check.at_risk_cents and not risk_acknowledged(campaign, check):
        missing.append(_l("Some vouchers may not be exempt from social contributions: confirm "
                          "that you go ahead knowingly on the URSSAF page."))
    return missing


def mark_quoted(campaign: Campaign, *, by) -> None:
    """The quote was issued (called by the invoicing domain)."""
    _lock(campaign)
    missing = ready_for_quote(campaign)
    if missing:
        raise CampaignError(missing[0], status_code=409)
    move(campaign, CampaignStatus.QUOTED, by=by)


def withdraw_quote(campaign: Campaign, *, by) -> None:
    move(campaign, CampaignStatus.BENEFICIARIES_IMPORTED, by=by)


def mark_paid(campaign: Campaign, *, by) -> None:
    """The campaign is paid in full: its cards are to be issued (signals.campaign_paid)."""
    move(campaign, CampaignStatus.PAID, by=by, stamp="paid_at")
    campaign_paid.send(campaign)


def mark_issued(campaign: Campaign, *, by) -> None:
    """Every beneficiary has their card: the invoice is due (signals.cards_issued)."""
    move(campaign, CampaignStatus.ISSUED, by=by, stamp="issued_at")
    cards_issued.send(campaign)


def cancel(campaign: Campaign, *, by, reason: str | None = None) -> None:
    move(campaign, CampaignStatus.CANCELLED, by=by, reason=reason)


# --- beneficiaries ---------------------------------------------------------------------------

def beneficiaries(campaign: Campaign) -> sa.Select:
    """The campaign's beneficiaries in the order of the imported file."""
    return (sa.select(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
            .order_by(Beneficiary.line, Beneficiary.id))


def totals(campaign: Campaign) -> tuple[int, int]:
    """(number of beneficiaries, total face value in cents) of the campaign."""
    count, total = db.session.execute(
        sa.select(sa.func.count(Beneficiary.id), sa.func.coalesce(sa.func.sum(Beneficiary.amount_cents), 0))
        .where(Beneficiary.campaign_id == campaign.id)).one()
    return int(count), int(total)


def totals_of(campaigns: list[Campaign]) -> dict[int, tuple[int, int]]:
    """totals() of each campaign, by id, in one query (a campaign without beneficiaries: 0, 0)."""
    ids = [campaign.id for campaign in campaigns]
    rows = db.session.execute(
        sa.select(Beneficiary.campaign_id, sa.func.count(Beneficiary.id).label("count"),
                  sa.func.coalesce(sa.func.sum(Beneficiary.amount_cents), 0).label("total"))
        .where(Beneficiary.campaign_id.in_(ids)).group_by(Beneficiary.campaign_id)).all() if ids else []
    found = {row.campaign_id: (int(row.count), int(row.total)) for row in rows}
    return {campaign_id: found.get(campaign_id, (0, 0)) for campaign_id in ids}


def total_cents(campaign: Campaign) -> int:
    return totals(campaign)[1]


def replace_beneficiaries(campaign: Campaign, rows: list[dict], *, by, filename: str) -> int:
    """The campaign's list becomes `rows` (checked by the import): the old list is deleted,
    the new one written in one statement. Returns the number of beneficiaries."""
    _lock(campaign)
    if campaign.status not in EDITABLE:
        raise CampaignError(_l("This campaign can no longer be changed."), status_code=409)
    db.session.execute(sa.delete(Beneficiary).where(Beneficiary.campaign_id == campaign.id))
    if rows:
        # Core, not the ORM's bulk insert: 20,000 rows in one executemany.
        db.session.execute(sa.insert(Beneficiary.__table__),
                           [{**row, "campaign_id": campaign.id} for row in rows])
    clear_risk_acknowledgement(campaign)
    if campaign.status == CampaignStatus.DRAFT:
        move(campaign, CampaignStatus.BENEFICIARIES_IMPORTED, by=by)
    total = sum(row["amount_cents"] for row in rows)
    audit.record("campaign.beneficiaries_imported", campaign, by=by,
                 organization=campaign.organization,
                 data={"name": campaign.name, "count": len(rows), "total_cents": total,
                       "filename": filename})
    return len(rows)


# --- the URSSAF statement --------------------------------------------------------------------

def risk_acknowledged(campaign: Campaign, check) -> bool:
    """The manager stated they go ahead with exactly the amount at risk the check finds now."""
    return (campaign.risk_acknowledged_at is not None
            and campaign.risk_acknowledged_cents == check.at_risk_cents)


def acknowledge_risk(campaign: Campaign, *, by) -> None:
    from marketplace.campaigns import urssaf

    _lock(campaign)
    if campaign.status not in EDITABLE:
        raise CampaignError(_l("This campaign can no longer be changed."), status_code=409)
    check = urssaf.check_campaign(campaign)
    if not check.at_risk_cents:
        raise CampaignError(_l("No voucher of this campaign is at risk: there is nothing to "
                               "confirm."), status_code=409)
    campaign.risk_acknowledged_by_id = by.id
    campaign.risk_acknowledged_at = utcnow()
    campaign.risk_acknowledged_cents = check.at_risk_cents
    db.session.flush()
    audit.record("campaign.risk_acknowledged", campaign, by=by, organization=campaign.organization,
                 data={"name": campaign.name, "at_risk_cents": check.at_risk_cents,
                       "lines": check.lines_at_risk, "year": campaign.year})


def clear_risk_acknowledgement(campaign: Campaign) -> None:
    campaign.risk_acknowledged_by_id = None
    campaign.risk_acknowledged_at = None
    campaign.risk_acknowledged_cents = None


def campaigns_of(organization: Organization) -> sa.Select:
    return (sa.select(Campaign).where(Campaign.organization_id == organization.id)
            .order_by(Campaign.send_on.desc(), Campaign.id.desc()))
