"""Background jobs of the pickup domain."""
from marketplace.extensions import celery


@celery.task(name="pickup.generate_slots")
def generate_slots(weeks: int = 3) -> int:
    """Create the coming weeks' slots from every active weekly template (safe to run twice)."""
    from marketplace.pickup.services import generate_all_slots

    return generate_all_slots(weeks=weeks)  # the job's unit of work commits
