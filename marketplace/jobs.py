"""Celery bound to the app: a Redis broker in production, eager (in-process) without one."""
from __future__ import annotations

from celery import Task
from flask import Flask, has_app_context

from marketplace import uow


class AppContextTask(Task):
    """Runs inside the Flask app context: the caller's when eager, the worker's app otherwise."""

    abstract = True

    def __call__(self, *args, **kwargs):
        # One unit of work per job (marketplace.uow); run in-process inside a unit, it joins it.
        if has_app_context():
            with uow.unit():
                return self.run(*args, **kwargs)
        with self.app.flask_app.app_context(), uow.unit():
            return self.run(*args, **kwargs)


def init_celery(app: Flask) -> None:
    from marketplace.extensions import celery

    broker = app.config.get("CELERY_BROKER_URL")
    celery.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND"),
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        timezone="Europe/Paris",
        enable_utc=True,
    )
    celery.conf.beat_schedule = {
        "generate-pickup-slots": {"task": "pickup.generate_slots", "schedule": 6 * 3600.0},
        "expire-holds": {"task": "payments.expire_holds", "schedule": 60.0},
        "reconcile-payments": {"task": "payments.reconcile", "schedule": 3600.0},
        "deliver-gift-cards": {"task": "giftcards.deliver_due", "schedule": 3600.0},
        "expire-gift-cards": {"task": "giftcards.expire_due", "schedule": 6 * 3600.0},
        "run-payouts": {"task": "ledger.run_payouts", "schedule": 7 * 24 * 3600.0},
    }
    celery.flask_app = app
    app.extensions["celery"] = celery
