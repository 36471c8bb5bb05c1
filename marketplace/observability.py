"""What operators watch: health checks, a request id in every log line and in the jobs a request
queues, JSON logs in production, Prometheus metrics, and Sentry when SENTRY_DSN is set.

- `/healthz`: the process answers (nothing else is asked: a load balancer's liveness probe).
- `/readyz`: the database answers, and the broker when one is configured; 503 otherwise, with
  the failing checks named (a balancer takes the node out until it is ready again).
- The request id comes from the balancer's `X-Request-ID` header when it is a sane token, else
  is made here; it is sent back in the answer, written in every log line of the request, and
  carried in the headers of every job the request queues, whose log lines carry it too.
- `/metrics` (Prometheus text format) answers only with `Authorization: Bearer <METRICS_TOKEN>`,
  and is a 404 without a token configured. Under gunicorn with several workers, set
  PROMETHEUS_MULTIPROC_DIR (an empty directory, the same for the web and the Celery workers of
  the host): each process writes its figures there and `/metrics` adds them up.
"""
from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from marketplace import redact
from marketplace.db import db, utcnow
from marketplace.orders.models import Hold, HoldState, Order, OrderStatus
from marketplace.payments.models import Refund, RefundStatus

bp = Blueprint("observability", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                            default=None)

# Metrics kept by this process (and added up across processes in multiprocess mode).
REQUESTS = Counter("marketplace_http_requests_total", "HTTP requests answered.",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("marketplace_http_request_duration_seconds",
                    "Time to answer an HTTP request.", ["method", "endpoint"],
                    buckets=(.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 10))
JOBS = Counter("marketplace_jobs_total", "Jobs run, by task and outcome.", ["task", "outcome"])
JOB_DURATION = Histogram("marketplace_job_duration_seconds", "Time a job took.", ["task"],
                         buckets=(.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900))


# Health ---------------------------------------------------------------------------------------

@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {"database": _database_answers()}
    broker = current_app.config.get("CELERY_BROKER_URL")
    if broker:
        checks["broker"] = _broker_answers(broker)
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: "ok" if ok else "unreachable" for name, ok in checks.items()}}
    return jsonify(body), 200 if ready else 503


def _database_answers() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        # The 503 ends the request's unit of work with a rollback (marketplace/uow.py).
        current_app.logger.warning("readyz: the database does not answer", exc_info=True)
        return False
    return True


def _broker_answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - whatever the transport raises, the broker is not there
        current_app.logger.warning("readyz: the broker does not answer", exc_info=True)
        return False
    return True


# Metrics --------------------------------------------------------------------------------------

@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not token:
        return Response("Not found\n", status=404, mimetype="text/plain")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("Unauthorized\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, JOBS, JOB_DURATION):
            registry.register(collector)
    registry.register(_StateCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


class _StateCollector:
    """Holds and payments by state, read from the database when Prometheus scrapes."""

    def collect(self):
        now = utcnow()
        holds = GaugeMetricFamily("marketplace_holds", "Holds still counted or overdue.",
                                  labels=["state"])
        running = sa.and_(Hold.state == HoldState.HELD, Hold.expires_at > now)
        overdue = sa.and_(Hold.state == HoldState.HELD, Hold.expires_at <= now)
        row = db.session.execute(sa.select(
            sa.func.count().filter(running).label("running"),
            sa.func.count().filter(overdue).label("overdue"),
        ).where(Hold.state == HoldState.HELD)).one()
        holds.add_metric(["held"], row.running)
        holds.add_metric(["overdue"], row.overdue)  # the expiry job is behind when this grows
        yield holds

        orders = GaugeMetricFamily("marketplace_orders", "Orders by status.", labels=["status"])
        counts = dict(db.session.execute(
            sa.select(Order.status, sa.func.count()).group_by(Order.status)).all())
        for status in OrderStatus:
            orders.add_metric([status.value], counts.get(status, 0))
        yield orders

        refunds = GaugeMetricFamily("marketplace_refunds", "Refunds by status.", labels=["status"])
        counts = dict(db.session.execute(
            sa.select(Refund.status, sa.func.count()).group_by(Refund.status)).all())
        for status in RefundStatus:
            refunds.add_metric([status.value], counts.get(status, 0))
        yield refunds


_UNWATCHED = frozenset({"observability.metrics", "static"})


def _start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    request_id_var.set(g.request_id)


def _end_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    endpoint = request.endpoint or "none"  # "none": no route matched (a 404)
    if started is not None and endpoint not in _UNWATCHED:
        elapsed = time.perf_counter() - started
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(request.method, endpoint).observe(elapsed)
        if current_app.config.get("LOG_REQUESTS"):
            current_app.logger.info(
                "%s %s %s", request.method, redact.path(request.path), response.status_code,
                extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)})
    return response


def _forget_request(exc) -> None:
    request_id_var.set(None)


# Logs -----------------------------------------------------------------------------------------

class RequestIdFilter(logging.Filter):
    """Puts the current request's (or job's) id on every record: `record.request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, and the
    exception when there is one."""

    _EXTRA = ("status", "duration_ms", "task")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for name in self._EXTRA:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """LOG_FORMAT "json" (production's default) or "text"; the request id on every line."""
    handler = logging.StreamHandler()
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("marketplace")
    for old in [h for h in root.handlers if getattr(h, "_marketplace", False)]:
        root.removeHandler(old)
    handler._marketplace = True  # noqa: SLF001 - ours, replaced when another app is made
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.propagate = True
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


# Jobs -----------------------------------------------------------------------------------------

def _connect_celery_signals() -> None:
    from celery import signals

    @signals.before_task_publish.connect(weak=False)
    def _carry_request_id(headers=None, **_):
        request_id = request_id_var.get()
        if headers is not None and request_id and "request_id" not in headers:
            headers["request_id"] = request_id

    @signals.task_prerun.connect(weak=False)
    def _job_starts(task=None, **_):
        # A worker finds the message's headers on the request; an in-process run, under headers.
        request_id = (getattr(task.request, "request_id", None)
                      or (getattr(task.request, "headers", None) or {}).get("request_id")
                      or request_id_var.get())
        task.request._marketplace_started = time.perf_counter()  # noqa: SLF001
        task.request._marketplace_outer_request_id = request_id_var.get()  # noqa: SLF001
        request_id_var.set(request_id or uuid.uuid4().hex)

    @signals.task_postrun.connect(weak=False)
    def _job_ends(task=None, state=None, **_):
        started = getattr(task.request, "_marketplace_started", None)
        if started is not None:
            JOB_DURATION.labels(task.name).observe(time.perf_counter() - started)
        JOBS.labels(task.name, (state or "unknown").lower()).inc()
        request_id_var.set(getattr(task.request, "_marketplace_outer_request_id", None))


_signals_connected = False


def init_app(app: Flask) -> None:
    global _signals_connected
    configure_logging(app)
    app.register_blueprint(bp)
    app.before_request(_start_request)
    app.after_request(_end_request)
    app.teardown_request(_forget_request)
    if not _signals_connected:
        _connect_celery_signals()
        _signals_connected = True
    dsn = app.config.get("SENTRY_DSN")
    if dsn:
        _init_sentry(app, dsn)


def _init_sentry(app: Flask, dsn: str) -> None:
    try:
        import sentry_sdk
    except ImportError as exc:  # an optional dependency: say how to get it
        raise RuntimeError("SENTRY_DSN is set but sentry-sdk is not installed: "
                           'pip install -e ".[sentry]"') from exc
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(dsn=dsn, environment=app.config.get("CONFIG_NAME"),
                    integrations=[FlaskIntegration(), CeleryIntegration()],
                    send_default_pii=False, traces_sample_rate=0.0)
