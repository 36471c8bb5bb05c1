"""Entry point for `celery -A marketplace.celery_app worker`: builds the app and imports tasks."""
from marketplace import create_app
from marketplace.extensions import celery

app = create_app()
celery.autodiscover_tasks(["marketplace.notifications", "marketplace.pickup", "marketplace.payments",
                         "marketplace.giftcards", "marketplace.ledger"], related_name="tasks")

__all__ = ["app", "celery"]
