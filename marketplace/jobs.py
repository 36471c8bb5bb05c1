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
    celery.conf.broker_transport_options = {
        "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"]}
    celery.conf.beat_schedule = beat_schedule(app.config["JOB_SCHEDULE"])
    # Campaign cards leave at a pace the mail server accepts.
    # So do the batches of the sellers' messages to their customers.
    celery.conf.task_annotations = {
        "campaigns.send_card": {"rate_limit": app.config["CAMPAIGN_MAIL_RATE"]},
        "consent.send_batch": {"rate_limit": app.config["SELLER_MESSAGE_BATCH_RATE"]}}
    celery.flask_app = app
    app.extensions["celery"] = celery


# The periodic jobs: the beat schedule's entry names (JOB_SCHEDULE's keys) and their tasks.
PERIODIC_JOBS = {
    "generate-pickup-slots": "pickup.generate_slots",
    "expire-holds": "payments.expire_holds",
    "reconcile-payments": "payments.reconcile",
    "deliver-gift-cards": "giftcards.deliver_due",
    "expire-gift-cards": "giftcards.expire_due",
    "run-payouts": "ledger.run_payouts",
    "send-campaign-cards": "campaigns.send_due",
    "remind-campaign-cards": "campaigns.remind",
    "close-campaigns": "campaigns.close",
    "issue-campaign-cards": "campaigns.issue_paid",
    "issue-commission-invoices": "accounting.issue_commission_invoices",
    "send-daily-alerts": "pickup.daily_alerts",
}


def beat_schedule(seconds_by_job: dict) -> dict:
    """Celery beat's schedule from JOB_SCHEDULE: every periodic job at its interval, those at 0
    left out; an unknown name is refused (a typo would silently keep the default)."""
    unknown = sorted(set(seconds_by_job) - set(PERIODIC_JOBS))
    if unknown:
        raise RuntimeError(f"JOB_SCHEDULE names no such job: {', '.join(unknown)} "
                           f"(the jobs are {', '.join(PERIODIC_JOBS)}).")
    return {name: {"task": task, "schedule": float(seconds_by_job[name])}
            for name, task in PERIODIC_JOBS.items() if seconds_by_job.get(name)}
