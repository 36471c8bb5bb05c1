"""The periodic jobs' schedule: the defaults, JOB_SCHEDULE from the environment laid over them,
a job left out with 0, and mistakes refused at start with a message that says what is wrong."""
from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.jobs import PERIODIC_JOBS, beat_schedule


def test_every_periodic_job_is_scheduled_by_default(monkeypatch):
    monkeypatch.delenv("JOB_SCHEDULE", raising=False)
    app = create_app("testing")
    schedule = app.extensions["celery"].conf.beat_schedule
    assert {name: entry["task"] for name, entry in schedule.items()} == PERIODIC_JOBS
    assert schedule["expire-holds"]["schedule"] == 60.0
    assert schedule["run-payouts"]["schedule"] == 7 * 24 * 3600.0


def test_the_environment_changes_some_jobs_and_keeps_the_others(monkeypatch):
    monkeypatch.setenv("JOB_SCHEDULE", '{"run-payouts": 86400, "reconcile-payments": 0}')
    app = create_app("testing")
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["run-payouts"]["schedule"] == 86400.0
    assert "reconcile-payments" not in schedule  # left out: run from cron instead
    assert schedule["expire-holds"]["schedule"] == 60.0
    assert app.config["JOB_SCHEDULE"]["deliver-gift-cards"] == 3600


@pytest.mark.parametrize("value", ["daily", '["run-payouts"]', '{"run-payouts": -1}',
                                   '{"run-payouts": "weekly"}'])
def test_a_schedule_that_is_not_seconds_is_refused(monkeypatch, value):
    monkeypatch.setenv("JOB_SCHEDULE", value)
    with pytest.raises(RuntimeError, match="JOB_SCHEDULE is a JSON object of seconds"):
        create_app("testing")


def test_an_unknown_job_name_is_refused():
    with pytest.raises(RuntimeError, match="JOB_SCHEDULE names no such job: run-payout"):
        beat_schedule({"run-payout": 60})


def test_the_broker_may_be_rabbitmq(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "120")
    app = create_app("development")
    celery = app.extensions["celery"]
    assert celery.conf.broker_url == "amqp://guest:guest@127.0.0.1:5672//"
    assert celery.conf.task_always_eager is False
    assert celery.conf.broker_transport_options == {"visibility_timeout": 120}
