"""Human names of the campaigns' enums, translated when shown."""
from __future__ import annotations

from marketplace.campaigns.models import AmountMode, CampaignEvent, CampaignStatus, UnspentPolicy
from marketplace.i18n import lazy_gettext as _l

EVENT_LABELS = {
    CampaignEvent.NONE: _l("No event"),
    CampaignEvent.BIRTH: _l("Birth"),
    CampaignEvent.ADOPTION: _l("Adoption"),
    CampaignEvent.MARRIAGE: _l("Marriage"),
    CampaignEvent.PACS: _l("Civil partnership (PACS)"),
    CampaignEvent.RETIREMENT: _l("Retirement"),
    CampaignEvent.MOTHERS_DAY: _l("Mother's Day"),
    CampaignEvent.FATHERS_DAY: _l("Father's Day"),
    CampaignEvent.SAINTE_CATHERINE: _l("Sainte-Catherine (unmarried women turning 25)"),
    CampaignEvent.SAINT_NICOLAS: _l("Saint-Nicolas (unmarried men turning 30)"),
    CampaignEvent.CHRISTMAS: _l("Christmas"),
    CampaignEvent.BACK_TO_SCHOOL: _l("Back to school"),
}

STATUS_LABELS = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.BENEFICIARIES_IMPORTED: _l("Beneficiaries imported"),
    CampaignStatus.QUOTED: _l("Quote sent"),
    CampaignStatus.PAID: _l("Paid"),
    CampaignStatus.ISSUED: _l("Cards issued"),
    CampaignStatus.CANCELLED: _l("Cancelled"),
}

AMOUNT_MODE_LABELS = {
    AmountMode.SAME: _l("The same amount for everyone"),
    AmountMode.PER_BENEFICIARY: _l("An amount per beneficiary (from the spreadsheet)"),
}

UNSPENT_LABELS = {
    UnspentPolicy.CREDIT: _l("Back to the works council, as a credit for its next campaign"),
    UnspentPolicy.ASSOCIATION: _l("Given to an association chosen by the works council"),
    UnspentPolicy.PLATFORM: _l("Kept by the platform"),
}


def register_filters(state) -> None:
    env = state.app.jinja_env
    env.filters["campaign_event"] = lambda value: EVENT_LABELS[CampaignEvent(value)]
    env.filters["campaign_status"] = lambda value: STATUS_LABELS[CampaignStatus(value)]
    env.filters["amount_mode"] = lambda value: AMOUNT_MODE_LABELS[AmountMode(value)]
    env.filters["unspent_policy"] = lambda value: UNSPENT_LABELS[UnspentPolicy(value)]
