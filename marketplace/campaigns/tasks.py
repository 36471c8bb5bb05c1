"""Background jobs of the works-council campaigns."""
from flask import current_app

from marketplace import uow
from marketplace.extensions import celery


@celery.task(name="campaigns.send_due")
def send_due() -> int:
    """Queue the cards of every campaign whose sending date has come (hourly by default)."""
    from marketplace.campaigns.sending import send_due as run

    return run()


@celery.task(name="campaigns.send_card")
def send_card(beneficiary_id: int) -> str:
    """Email one employee their card, at the rate CAMPAIGN_MAIL_RATE (a task annotation set in
    marketplace.jobs); a failure is recorded and tried again later, with a growing wait, up to
    CAMPAIGN_MAIL_ATTEMPTS times in all."""
    from marketplace.campaigns.models import Beneficiary
    from marketplace.campaigns.sending import send_one
    from marketplace.db import db

    outcome = send_one(beneficiary_id)
    if outcome == "failed":
        failures = db.session.get(Beneficiary, beneficiary_id).send_failures
        if failures < current_app.config["CAMPAIGN_MAIL_ATTEMPTS"]:
            wait = current_app.config["CAMPAIGN_MAIL_RETRY_SECONDS"] * 2 ** (failures - 1)
            uow.after_commit(send_card.apply_async, (beneficiary_id,), countdown=wait)
    return outcome


@celery.task(name="campaigns.remind")
def remind() -> int:
    """The reminders due today to employees about their cards (daily by default)."""
    from marketplace.campaigns.reminders import send_due as run

    return run()


@celery.task(name="campaigns.close")
def close() -> int:
    """Close the campaigns whose cards are all over, each report emailed (daily by default)."""
    from marketplace.campaigns.closing import close_finished

    return close_finished()


@celery.task(name="campaigns.issue_cards")
def issue_cards(campaign_id: int) -> int:
    """Issue the cards of a paid campaign (queued when it is paid); nothing if already issued."""
    from marketplace.campaigns.issuance import issue_campaign

    return issue_campaign(campaign_id)


@celery.task(name="campaigns.issue_paid")
def issue_paid() -> int:
    """Finish the paid campaigns whose cards are not all issued (a run that failed)."""
    from marketplace.campaigns.issuance import issue_paid as run

    return run()
