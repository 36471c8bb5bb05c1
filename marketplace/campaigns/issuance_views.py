"""How far a campaign's cards are issued: the figures the campaign page shows
(templates/campaigns/_issuance.html, through the `campaign_issuance` template global) and the
same figures as JSON, which static/js/campaign_issuance.js asks for while the cards are being
issued. Importing this module at start (marketplace.BLUEPRINTS) also connects the issuance to
the campaign's payment (campaigns.issuance.issue_when_paid)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from flask_babel import ngettext

from marketplace.campaigns import issuance
from marketplace.campaigns.models import Campaign, CampaignStatus
from marketplace.organizations.access import WORKS_COUNCILS, member_required, owned_or_404
from marketplace.organizations.models import Role

bp = Blueprint("campaign_issuance", __name__)

SHOWN = frozenset({CampaignStatus.PAID, CampaignStatus.ISSUED})


@bp.app_template_global("campaign_issuance")
def campaign_issuance(campaign: Campaign) -> dict | None:
    """What the page says of the issuance, or None before the campaign is paid."""
    if campaign.status not in SHOWN:
        return None
    return _figures(campaign)


def _figures(campaign: Campaign) -> dict:
    found = issuance.progress_of(campaign.id)
    issuing = campaign.status == CampaignStatus.PAID
    if issuing:
        text = ngettext("%(issued)s of %(num)d card issued (%(percent)s %%)…",
                        "%(issued)s of %(num)d cards issued (%(percent)s %%)…", found.total,
                        issued=found.issued, percent=found.percent)
    else:
        text = ngettext("The card is issued.", "All %(num)d cards are issued.", found.total)
    return {"issued": found.issued, "total": found.total, "percent": found.percent,
            "issuing": issuing, "text": text}


@bp.get("/orgs/<int:org_id>/campaigns/<int:campaign_id>/issuance")
@member_required(Role.COUNTER, kinds=WORKS_COUNCILS)
def progress(organization, membership, campaign_id):
    campaign = owned_or_404(Campaign, campaign_id, organization)
    figures = campaign_issuance(campaign)
    if figures is None:
        return jsonify(issuing=False, text=_("The campaign is not paid yet.")), 409
    return jsonify(figures)
