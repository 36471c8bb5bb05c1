"""Background jobs of the payments domain (each safe to run twice)."""
from marketplace.extensions import celery


@celery.task(name="payments.expire_holds")
def expire_holds() -> int:
    """Release the unpaid orders whose hold has ended and end their payment sessions."""
    from marketplace.payments.services import expire_stale_orders

    return expire_stale_orders()  # one unit; a busy order is skipped (SAVEPOINT)


@celery.task(name="payments.reconcile")
def reconcile(since_hours: int = 48) -> int:
    """Ask the gateway about recent unpaid orders whose webhook may never have come."""
    from marketplace.payments.services import reconcile as run

    return run(since_hours=since_hours)
