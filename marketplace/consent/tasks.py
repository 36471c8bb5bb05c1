"""Background jobs of the sellers' messages to their customers."""
from flask import current_app

from marketplace import uow
from marketplace.extensions import celery


@celery.task(name="consent.send_batch")
def send_batch(recipient_ids: list[int]) -> dict:
    """Send one batch of a seller's message, at the rate SELLER_MESSAGE_BATCH_RATE (a task
    annotation set in marketplace.jobs); the addresses that failed are tried again later, with
    a growing wait, up to SELLER_MESSAGE_ATTEMPTS times in all."""
    from marketplace.consent.messages import send_batch as run
    from marketplace.consent.models import SellerMessageRecipient
    from marketplace.db import db

    outcome = run(recipient_ids)
    retry = [recipient_id for recipient_id in outcome["failed"]
             if db.session.get(SellerMessageRecipient, recipient_id).failures
             < current_app.config["SELLER_MESSAGE_ATTEMPTS"]]
    if retry:
        failures = db.session.get(SellerMessageRecipient, retry[0]).failures
        wait = current_app.config["SELLER_MESSAGE_RETRY_SECONDS"] * 2 ** (failures - 1)
        uow.after_commit(send_batch.apply_async, (retry,), countdown=wait)
    return outcome
