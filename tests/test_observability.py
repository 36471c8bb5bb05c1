"""What operators watch (marketplace/observability.py): health checks, request ids carried into
logs and jobs, JSON logs, Prometheus metrics behind a token."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from marketplace import create_app
from marketplace.db import db
from marketplace.extensions import celery
from marketplace.observability import JsonFormatter, RequestIdFilter, request_id_var

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_healthz_says_the_process_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_is_a_503_when_the_database_is_unreachable(tmp_path):
    app = create_app("testing", overrides={"DATABASE_URL": UNREACHABLE_PG,
                                          "DB_CONNECT_TIMEOUT_SECONDS": 2})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "checks": {"database": "unreachable"}}
    # The site's own pages still say "busy" rather than crash; /healthz stays alive.
    assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.postgres
def test_readyz_follows_postgresql_going_away_and_coming_back(empty_database_url):
    """A running node whose PostgreSQL stops answering (its connections cut, new ones refused:
    what a stopped or restarting server does to it) answers 503 at once, and 200 again once the
    server is back, without a restart."""
    app = create_app("testing", overrides={"DATABASE_URL": empty_database_url,
                                          "DB_CONNECT_TIMEOUT_SECONDS": 2})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200  # its pool now holds a connection
    name = sa.make_url(empty_database_url).database
    admin = sa.create_engine(sa.make_url(empty_database_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name"), {"name": name})
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json == {"status": "unavailable", "checks": {"database": "unreachable"}}
        assert client.get("/healthz").status_code == 200
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["checks"] == {"database": "ok"}
    with app.app_context():
        db.engine.dispose()


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def test_readyz_asks_the_broker_when_one_is_configured(app, client):
    app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "broker": "unreachable"}
    if _redis_answers():
        app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/15"
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_a_request_id_is_given_back_and_written_in_its_log_lines(app, client, caplog):
    @app.get("/_test/log")
    def log_something():
        app.logger.warning("something happened")
        return "logged"

    with caplog.at_level(logging.WARNING, logger="marketplace"):
        response = client.get("/_test/log", headers={"X-Request-ID": "balancer-id-1234"})
    assert response.headers["X-Request-ID"] == "balancer-id-1234"
    record = next(r for r in caplog.records if r.getMessage() == "something happened")
    assert record.request_id == "balancer-id-1234"

    # An id that is not a sane token (spaces, markup, too short) is replaced by our own.
    for bad in ("<script>", "a b c d e f g h", "short"):
        given_back = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert given_back != bad and len(given_back) == 32
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert first != second


def test_json_log_lines_carry_the_request_id_and_the_exception():
    record = logging.LogRecord("marketplace.orders", logging.ERROR, __file__, 1,
                               "order %s failed", ("ESS-1",), None)
    token = request_id_var.set("req-abcdef12")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "marketplace.orders"
    assert line["message"] == "order ESS-1 failed"
    assert line["request_id"] == "req-abcdef12"
    assert "ValueError: boom" in line["exception"]
    assert line["time"].endswith("+00:00")


def test_production_writes_json_logs(make_app):
    app = make_app(config_name="production", SECRET_KEY="x" * 40,
                   ALLOW_SQLITE_IN_PRODUCTION=True)
    assert app.config["LOG_FORMAT"] == "json"
    handlers = [h for h in logging.getLogger("marketplace").handlers
                if getattr(h, "_marketplace", False)]
    assert len(handlers) == 1 and isinstance(handlers[0].formatter, JsonFormatter)
    make_app()  # the next app's settings replace the handler (text here)
    handlers = [h for h in logging.getLogger("marketplace").handlers
                if getattr(h, "_marketplace", False)]
    assert len(handlers) == 1 and not isinstance(handlers[0].formatter, JsonFormatter)


def test_a_job_queued_by_a_request_carries_its_request_id(app, client):
    """Published to a broker, a job's headers hold the request id; the worker's log lines
    of that job carry it."""
    seen: dict = {}

    @celery.task(name="tests.observability.remember_request_id", bind=True)
    def remember(self):
        seen["id"] = request_id_var.get()

    published: list[dict] = []

    from celery import signals

    def spy(headers=None, **_):
        published.append(dict(headers or {}))

    signals.before_task_publish.connect(spy, weak=False)
    previous = celery.conf.task_always_eager
    try:
        celery.conf.task_always_eager = False
        celery.conf.broker_url = "memory://"

        @app.get("/_test/queue")
        def queue():
            remember.apply_async()
            return "queued"

        client.get("/_test/queue", headers={"X-Request-ID": "req-from-balancer"})
    finally:
        celery.conf.task_always_eager = previous
        signals.before_task_publish.disconnect(spy)
    assert published and published[-1]["request_id"] == "req-from-balancer"

    # The worker side: the job runs with the id it was given.
    remember.apply(headers={"request_id": "req-from-balancer"})
    assert seen["id"] == "req-from-balancer"
    assert request_id_var.get() is None  # and forgets it afterwards


def test_metrics_need_the_token(app, client):
    assert client.get("/metrics").status_code == 404  # no token configured: nothing there
    app.config["METRICS_TOKEN"] = "a-long-metrics-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong.headers


def test_metrics_count_requests_jobs_holds_and_payments(app, client):
    app.config["METRICS_TOKEN"] = "a-long-metrics-token"
    client.get("/")
    client.get("/")
    client.get("/no-such-page")
    from marketplace.pickup.tasks import generate_slots

    generate_slots.delay(1)
    text = client.get("/metrics", headers={"Authorization": "Bearer a-long-metrics-token"}).text

    def value(line_start: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(line_start)]
        assert lines, f"no {line_start} in the metrics"
        return float(lines[0].rsplit(" ", 1)[1])

    assert value('marketplace_http_requests_total{endpoint="site.home",method="GET",status="200"}') >= 2
    assert value('marketplace_http_requests_total{endpoint="none",method="GET",status="404"}') >= 1
    assert value('marketplace_http_request_duration_seconds_count{endpoint="site.home",method="GET"}') >= 2
    assert value('marketplace_jobs_total{outcome="success",task="pickup.generate_slots"}') >= 1
    assert value('marketplace_job_duration_seconds_count{task="pickup.generate_slots"}') >= 1
    assert value('marketplace_holds{state="held"}') == 0
    assert value('marketplace_orders{status="pending_payment"}') >= 0
    assert 'marketplace_refunds{status="pending"}' in text


def test_metrics_add_up_the_processes_of_a_host(tmp_path):
    """Under gunicorn (several workers) and Celery, each process writes its figures in
    PROMETHEUS_MULTIPROC_DIR and /metrics adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
           "INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("SERVER_BASE_URL", None)
    worker = textwrap.dedent("""
        from marketplace.observability import REQUESTS
        REQUESTS.labels("GET", "site.home", "200").inc(3)
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, cwd=ROOT, check=True,  # noqa: S603
                       timeout=60)
    scrape = textwrap.dedent("""
        from marketplace import create_app
        from marketplace.db import db
        app = create_app("testing", overrides={"METRICS_TOKEN": "t" * 20})
        with app.app_context():
            db.create_all()
        response = app.test_client().get("/metrics", headers={"Authorization": "Bearer " + "t" * 20})
        print(response.status_code)
        print(response.text)
    """)
    done = subprocess.run([sys.executable, "-c", scrape], env=env, cwd=ROOT, check=True,  # noqa: S603
                          capture_output=True, text=True, timeout=60)
    status, text = done.stdout.split("\n", 1)
    assert status == "200"
    line = next(line for line in text.splitlines() if line.startswith(
        'marketplace_http_requests_total{endpoint="site.home",method="GET",status="200"}'))
    assert float(line.rsplit(" ", 1)[1]) == 6.0
