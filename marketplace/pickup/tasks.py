"""Background jobs of the pickup domain."""
from marketplace.extensions import celery


@celery.task(name="pickup.generate_slots")
def generate_slots(weeks: int = 3) -> int:
    """Create the coming weeks' slots from every active weekly template (safe to run twice)."""
    from marketplace.pickup.services import generate_all_slots

    return generate_all_slots(weeks=weeks)  # the job's unit of work commits


@celery.task(name="pickup.daily_alerts")
def daily_alerts() -> int:
    """The sellers' daily alerts email (pickup/alerts.py): hourly, each member once a day."""
    from marketplace.pickup.alerts import send_daily_alerts

    return send_daily_alerts()
