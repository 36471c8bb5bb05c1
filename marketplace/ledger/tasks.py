"""Background jobs of the sellers' ledger."""
from marketplace.extensions import celery


@celery.task(name="ledger.run_payouts")
def run_payouts() -> int:
    """One payout per seller owed at least PAYOUT_MINIMUM_CENTS (weekly by default)."""
    from marketplace.ledger.services import run_payouts as run

    return len(run().paid)
