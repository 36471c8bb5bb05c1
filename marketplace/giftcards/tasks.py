"""Background jobs of the gift cards (each safe to run twice)."""
from marketplace.extensions import celery


@celery.task(name="giftcards.deliver_due")
def deliver_due() -> int:
    """Email the gifts whose delivery date has come."""
    from marketplace.giftcards.notify import deliver_due as run

    return run()


@celery.task(name="giftcards.expire_due")
def expire_due() -> int:
    """Cards past their expiry: what is left follows GIFTCARD_EXPIRY_POLICY."""
    from marketplace.giftcards.services import expire_due as run

    return run()
