"""The marketplace application: create_app wires config, extensions, blueprints, CLI and errors."""
from __future__ import annotations

import importlib
import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from marketplace.urls import external_url

ROOT = Path(__file__).resolve().parent.parent

# Blueprint modules, each exposing `bp`. A domain adds its views here.
BLUEPRINTS = [
    "marketplace.site.views",
    "marketplace.accounts.views",
    "marketplace.organizations.views",
    "marketplace.admin.views",
    "marketplace.notifications.views",
    "marketplace.catalog.views",
    "marketplace.catalog.staff_views",
    "marketplace.catalog.import_views",
    "marketplace.catalog.stocktake_views",
    "marketplace.catalog.quick",
    "marketplace.catalog.labels",
    "marketplace.pickup.views",
    "marketplace.orders.staff_views",
    "marketplace.orders.views",
    "marketplace.payments.views",
    "marketplace.vouchers.views",
    "marketplace.giftcards.views",
    "marketplace.giftcards.admin_views",
    "marketplace.ledger.views",
    "marketplace.invoicing.admin_views",
    "marketplace.accounting.views",
    "marketplace.accounting.admin_views",
    "marketplace.campaigns.views",
    "marketplace.campaigns.issuance_views",
    "marketplace.consent.views",
    "marketplace.privacy.views",
    "marketplace.insights.views",
]

# Modules that connect receivers to the signals of the domains below them, or register in their
# registries, when imported (docs/architecture.md, "Domains"): imported by create_app, so that
# every app (web, worker, CLI, tests) has them all.
RECEIVERS = [
    "marketplace.payments.services",  # the payment page (orders.payment_methods)
    "marketplace.giftcards.payment",  # the gift cards, a prepaid means (orders.payment_methods)
    "marketplace.giftcards.purchase",  # the cards bought with an order (orders.signals)
    "marketplace.vouchers.notify",  # the order's confirmation with its vouchers (orders.signals)
    "marketplace.ledger.services",  # sales, refunds, donations, counter debits
    # The ways a works council pays a campaign through the gateway, and their receivers of the
    # orders' and campaigns' signals.
    "marketplace.campaigns.card_payment",
]


def _job_schedule(value: str) -> dict:
    """JOB_SCHEDULE from the environment: a JSON object of job names and seconds, laid over
    the settings file's schedule (see _configure)."""
    try:
        schedule = json.loads(value)
    except ValueError:
        schedule = None
    if not isinstance(schedule, dict) or not all(
            isinstance(seconds, int | float) and seconds >= 0 for seconds in schedule.values()):
        raise RuntimeError('JOB_SCHEDULE is a JSON object of seconds, e.g. {"run-payouts": 86400}, '
                           f"not {value!r}.")
    return {"__partial__": True, **schedule}


# Environment variables that override the settings files, and how to read them.
ENV_OVERRIDES = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SERVER_BASE_URL": str,
    "STRIPE_SECRET_KEY": str,
    "STRIPE_WEBHOOK_SECRET": str,
    "REDIS_URL": str,
    "CELERY_BROKER_URL": str,
    "CELERY_VISIBILITY_TIMEOUT": int,
    "JOB_SCHEDULE": _job_schedule,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_USE_TLS": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_USE_SSL": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_BACKEND": str,
    "UPLOAD_DIR": str,
    "PROXY_COUNT": int,
    "STRIPE_API_BASE": str,
    "HOLD_MINUTES": int,
    "DAILY_ALERTS_HOUR": int,
    "GIFTCARD_MAX_CENTS": int,
    "GIFTCARD_VALIDITY_MONTHS": int,
    "CAMPAIGN_CARD_MAX_CENTS": int,
    "CAMPAIGN_SERVICE_FEE_BP": int,
    "CAMPAIGN_MAIL_RATE": str,
    "CAMPAIGN_MAIL_ATTEMPTS": int,
    "GIFTCARD_EXPIRY_POLICY": str,
    "GIFTCARD_EXPIRY_ASSOCIATION": str,
    "GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS": int,
    "GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT": int,
    "PAYOUT_MINIMUM_CENTS": int,
    "CONSUMER_MEDIATOR_NAME": str,
    "CONSUMER_MEDIATOR_ADDRESS": str,
    "CONSUMER_MEDIATOR_WEBSITE": str,
    "PLATFORM_LEGAL_NAME": str,
    "PLATFORM_ADDRESS": str,
    "PLATFORM_LEGAL_FORM": str,
    "PLATFORM_SIREN": str,
    "PLATFORM_SIRET": str,
    "PLATFORM_VAT_NUMBER": str,
    "PLATFORM_RCS": str,
    "PLATFORM_BANK_NAME": str,
    "PLATFORM_IBAN": str,
    "PLATFORM_BIC": str,
    "LOG_FORMAT": str,
    "LOG_LEVEL": str,
    "LOG_REQUESTS": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "METRICS_TOKEN": str,
    "SENTRY_DSN": str,
    "CATALOG_CACHE_SECONDS": int,
    "CATALOG_CACHE_LOCAL_SECONDS": float,
}

MEDIATOR_SETTINGS = ("CONSUMER_MEDIATOR_NAME", "CONSUMER_MEDIATOR_ADDRESS", "CONSUMER_MEDIATOR_WEBSITE")


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, config_name or os.environ.get("MARKETPLACE_CONFIG", "development"), overrides)
    from marketplace.fastjson import OrjsonProvider

    app.json = OrjsonProvider(app)
    if app.config["PROXY_COUNT"]:
        # Behind a reverse proxy (TLS ends there): trust its X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_error_handlers(app)
    from marketplace import caching

    caching.install_lookup(app)  # last: it places its hook before those registered above
    return app


def _configure(app: Flask, config_name: str, overrides: dict | None) -> None:
    app.config.from_object("config.default")
    app.config.from_object(f"config.{config_name}")
    app.config["CONFIG_NAME"] = config_name
    for key, cast in ENV_OVERRIDES.items():
        value = os.environ.get(key)
        if value not in (None, ""):
            value = cast(value)
            if isinstance(value, dict) and value.pop("__partial__", False):
                value = {**app.config[key], **value}
            app.config[key] = value
    if overrides:
        app.config.update(overrides)

    instance = Path(app.instance_path)
    database_url = app.config.pop("DATABASE_URL", None) or app.config["SQLALCHEMY_DATABASE_URI"]
    if not database_url:
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'marketplace.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    if database_url.startswith("sqlite"):
        # Writers wait for each other instead of failing at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"timeout": app.config["DB_LOCK_TIMEOUT_SECONDS"]},
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    elif database_url.startswith("postgresql"):
        # (Plans made for the actual values, plan_cache_mode=force_custom_plan, are asked for
        # by the catalogue listing only: catalog.listing.list_products. Everywhere else the
        # plans that psycopg's prepared statements allow save PostgreSQL's CPU.)
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        connect_args = {**options.get("connect_args", {})}
        # Any wait for a row lock ends after DB_LOCK_TIMEOUT_SECONDS: "busy, try again", never
        # a request hanging behind a slow one.
        timeout_ms = int(app.config["DB_LOCK_TIMEOUT_SECONDS"] * 1000)
        connect_args.setdefault("options", f"-c lock_timeout={timeout_ms}")
        # A database that does not answer is said so in seconds (/readyz), not after TCP's minutes.
        connect_args.setdefault("connect_timeout", app.config["DB_CONNECT_TIMEOUT_SECONDS"])
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    if app.config["GIFTCARD_VALIDITY_MONTHS"] < 12:
        raise RuntimeError("GIFTCARD_VALIDITY_MONTHS cannot be less than 12: a gift card is "
                           "valid for at least a year.")
    if app.config["GIFTCARD_EXPIRY_POLICY"] not in ("keep", "donate"):
        raise RuntimeError('GIFTCARD_EXPIRY_POLICY is "keep" or "donate".')
    if app.config["GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS"] <= 0 or not (
            0 < app.config["GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT"] <= 100):
        raise RuntimeError("GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS is above zero and "
                           "GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT between 1 and 100.")
    website = app.config["CONSUMER_MEDIATOR_WEBSITE"]
    parts = urlsplit(website or "")
    if website and (parts.scheme not in ("https", "http") or not parts.netloc):
        raise RuntimeError("CONSUMER_MEDIATOR_WEBSITE is a web address starting with https://, "
                           f"not {website!r}.")
    from marketplace.invoicing.issuer import check_settings

    check_settings(app.config)
    app.config["MAIL_OUTBOX_DIR"] = app.config["MAIL_OUTBOX_DIR"] or str(instance / "outbox")
    app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"] or str(instance / "uploads")
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        app.config["CELERY_BROKER_URL"] = app.config["CELERY_BROKER_URL"] or redis_url
        if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
            app.config["RATELIMIT_STORAGE_URI"] = redis_url
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        days=app.config["PERMANENT_SESSION_LIFETIME_DAYS"]
    )
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_COOKIE_DURATION_DAYS"])

    if config_name == "production":
        from config.default import DEV_SECRET_KEY

        secret = app.config.get("SECRET_KEY") or ""
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            raise RuntimeError(
                "Production refuses to start without a real SECRET_KEY: set the SECRET_KEY "
                "environment variable to a random string of at least 32 characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if database_url.startswith("sqlite") and not os.environ.get("ALLOW_SQLITE_IN_PRODUCTION"):
            app.logger.warning("Production is running on SQLite; set DATABASE_URL to PostgreSQL.")
        if urlsplit(app.config["SERVER_BASE_URL"]).scheme != "https":
            app.logger.warning(
                "SERVER_BASE_URL is %s: every link in mails, QR codes and PDFs is built on it; "
                "set it to the site's public https address.", app.config["SERVER_BASE_URL"])
        missing = [key for key in MEDIATOR_SETTINGS if not app.config.get(key)]
        if missing:
            app.logger.warning(
                "The terms of sale name no consumer mediator, which French law requires "
                "(Consumer Code L612-1, L616-1): set %s.", ", ".join(missing))


def _init_extensions(app: Flask) -> None:
    from marketplace import audience, caching, i18n, observability, security, uow
    from marketplace.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
    from marketplace.jobs import init_celery

    observability.init_app(app)  # first: the request id is known to every other hook
    db.init_app(app)
    uow.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(ROOT / "translations"),
    )
    login_manager.init_app(app)
    from marketplace.accounts.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    from flask_babel import gettext

    login_manager.login_message = i18n.lazy_gettext("Please log in to see this page.")
    login_manager.localize_callback = gettext
    init_celery(app)
    caching.init_app(app)
    audience.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    from marketplace import payments

    payments.init_app(app)

    # Import every models module so metadata (and Alembic) sees all tables.
    from marketplace import models  # noqa: F401
    from marketplace.notifications import services as notifications

    notifications.init_app(app)
    for module_name in RECEIVERS:
        importlib.import_module(module_name)


def _register_blueprints(app: Flask) -> None:
    app.add_template_global(external_url, "external_url")  # every absolute link (emails)
    for module_name in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)
    from marketplace import api

    api.init_app(app)


def _register_cli(app: Flask) -> None:
    from marketplace.cli import register

    register(app)


def _register_error_handlers(app: Flask) -> None:
    from marketplace.errors import register

    register(app)
