"""The Celery worker's entry point: `celery -A marketplace.worker:celery worker [--beat]`.

It exposes the Celery app only: Celery's `-A module` takes a module's `app` attribute first, and
a Flask app there stops the worker at start ('Flask' object has no attribute 'user_options').
Creating the Flask app binds Celery to it (marketplace.jobs.init_celery: the broker from
REDIS_URL, each task inside the app context).
"""
from marketplace import create_app
from marketplace.extensions import celery

if not create_app().config.get("CELERY_BROKER_URL"):
    raise SystemExit(
        "The worker needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0), the same for the "
        "web processes, or CELERY_BROKER_URL for RabbitMQ (amqp://user:password@host:5672//). "
        "Without a broker, mails are sent by the web processes themselves and the periodic jobs "
        "run from cron (README, 'Background jobs')."
    )
celery.autodiscover_tasks(["marketplace.notifications", "marketplace.pickup", "marketplace.payments",
                           "marketplace.giftcards", "marketplace.ledger", "marketplace.campaigns",
                           "marketplace.consent",
                           "marketplace.accounting"], related_name="tasks")

__all__ = ["celery"]
