"""Safe defaults for a single machine: SQLite under instance/, no Redis, no Stripe key."""
import os

DEV_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - refused by production.py

SECRET_KEY = DEV_SECRET_KEY
DEBUG = False
TESTING = False

SITE_NAME = "ESS Marché"
# The site's public address: every absolute link (emails, QR codes, PDFs, payment return
# addresses, jobs, the API) is built on it, whatever host a request came through.
# Development derives it from the port `flask run` serves (config/development.py).
SERVER_BASE_URL = "http://127.0.0.1:5000"

# Database: an SQLite file under instance/ unless DATABASE_URL says otherwise.
SQLALCHEMY_DATABASE_URI = None  # resolved in create_app (needs the instance path)
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
# Seconds a request waits for a row lock before answering "busy, please try again".
DB_LOCK_TIMEOUT_SECONDS = 5
# A database server that does not answer is reported after this long (/readyz), not TCP's minutes.
DB_CONNECT_TIMEOUT_SECONDS = 5

# Sessions and cookies
SESSION_COOKIE_NAME = "ess_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_NAME = "ess_remember"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = False
REMEMBER_COOKIE_DURATION_DAYS = 30
PERMANENT_SESSION_LIFETIME_DAYS = 14
PREFERRED_URL_SCHEME = "http"
# Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
PROXY_COUNT = 0

# CSRF
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = 8 * 3600

# Extra origins allowed as form targets and frames (Stripe Checkout is added by the payments domain).
CSP_EXTRA_FORM_ACTION: list[str] = []
HSTS_SECONDS = 0

# i18n
BABEL_DEFAULT_LOCALE = "fr"
BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
LANGUAGES = {"fr": "Français", "en": "English"}

# Passwords: argon2id; these are argon2-cffi's RFC 9106 "low memory" profile.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 64 * 1024
ARGON2_PARALLELISM = 4
PASSWORD_MIN_LENGTH = 10
EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 3600
PASSWORD_RESET_MAX_AGE = 3600
INVITATION_MAX_AGE_DAYS = 14

# Throttling (Flask-Limiter); memory:// is per process, production uses Redis.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
LOGIN_PER_EMAIL_RATE_LIMIT = "5 per minute;20 per hour"
PASSWORD_RESET_RATE_LIMIT = "5 per 15 minutes;20 per day"  # noqa: S105 - not a secret
REGISTER_RATE_LIMIT = "10 per hour"
VERIFICATION_RESEND_RATE_LIMIT = "5 per 15 minutes;20 per day"

# Mail (Flask-Mailman). Development writes every mail to the outbox folder, shown at /dev/outbox.
MAIL_BACKEND = "marketplace.notifications.outbox.EmailBackend"
MAIL_OUTBOX_DIR = None  # resolved in create_app: instance/outbox
MAIL_DEFAULT_SENDER = "ESS Marché <ne-pas-repondre@ess-marche.localhost>"
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
DEV_OUTBOX_ENABLED = False  # /dev/outbox: on in the development config, never in production

# Celery: with no broker, tasks run in-process (eager). REDIS_URL serves as the broker unless
# CELERY_BROKER_URL names another (RabbitMQ: amqp://user:password@host:5672//).
CELERY_BROKER_URL = None
CELERY_RESULT_BACKEND = None
# A job taken by a worker that died (killed, host lost) goes back to the queue: at once with
# RabbitMQ, after this many seconds with Redis. Longer than the longest job, or a job still
# running would be handed to a second worker (jobs are safe to run twice, but it wastes work).
CELERY_VISIBILITY_TIMEOUT = 3600
# How often the beat scheduler runs each periodic job, in seconds (0 leaves the job out, to run
# it from cron or by hand instead). The environment variable JOB_SCHEDULE, a JSON object such
# as {"run-payouts": 86400}, changes some of them and keeps the others.
JOB_SCHEDULE = {
    "generate-pickup-slots": 6 * 3600,  # pickup.generate_slots
    "expire-holds": 60,  # payments.expire_holds
    "reconcile-payments": 3600,  # payments.reconcile
    "deliver-gift-cards": 3600,  # giftcards.deliver_due
    "expire-gift-cards": 6 * 3600,  # giftcards.expire_due
    "run-payouts": 7 * 24 * 3600,  # ledger.run_payouts (weekly)
    "send-campaign-cards": 3600,  # campaigns.send_due
    "remind-campaign-cards": 24 * 3600,  # campaigns.remind
    "close-campaigns": 24 * 3600,  # campaigns.close
    "issue-campaign-cards": 600,  # campaigns.issue_paid: what a failed issuance left
    # accounting.issue_commission_invoices: the last month's, once (later runs find them issued)
    "issue-commission-invoices": 24 * 3600,
    "send-daily-alerts": 3600,  # pickup.daily_alerts: the first run past DAILY_ALERTS_HOUR sends
}
# The sellers' daily alerts email (pickup/alerts.py) leaves from this hour on (Paris time).
DAILY_ALERTS_HOUR = 7

# The public catalogue's page cache (marketplace/caching.py): anonymous visitors' home,
# products, product and shopfront pages and the API's products, for this many seconds at most
# (how stale the stock shown may be; a seller's change ends them at once). 0 turns it off.
# Shared in Redis when REDIS_URL is set, else kept by each process.
CATALOG_CACHE_SECONDS = 5
CACHE_TYPE = None  # resolved in create_app: RedisCache with REDIS_URL, else SimpleCache
# With Redis, each process keeps its own copies and reads the version (a seller's change) at
# most this many seconds late: another node's change shows within this delay.
CATALOG_CACHE_LOCAL_SECONDS = 1
# Page views (marketplace/audience.py): each process writes its counts this often, or sooner
# once this many views are waiting.
AUDIENCE_FLUSH_SECONDS = 5
AUDIENCE_FLUSH_AT = 5000

# Uploads (used by the catalogue)
UPLOAD_DIR = None  # resolved in create_app: instance/uploads

# Platform admin contact shown in legal pages
PLATFORM_LEGAL_NAME = "ESS Marché (association loi 1901)"
PLATFORM_CONTACT_EMAIL = "contact@ess-marche.localhost"
PLATFORM_ADDRESS = "12 rue de la Solidarité, 69001 Lyon"
# The platform's legal identity on its quotes, invoices and credit notes (French Commercial
# Code L441-9, CGI art. 242 nonies A): demonstration values, to be replaced in production
# (environment variables of the same names); create_app refuses a SIREN, SIRET or IBAN that
# fails its check digits.
PLATFORM_LEGAL_FORM = "Association loi 1901"
PLATFORM_SIREN = "912345675"
PLATFORM_SIRET = "91234567500017"
PLATFORM_VAT_NUMBER = "FR65912345675"  # None under the VAT franchise (art. 293 B du CGI)
PLATFORM_RCS = None  # "RCS Lyon 912 345 675" for a registered company; an association has none
# The bank account that receives the works councils' transfers (printed on pro-formas).
PLATFORM_BANK_NAME = "Crédit Coopératif (démonstration)"
PLATFORM_IBAN = "FR7642559000011234567890121"
PLATFORM_BIC = "CCOPFRPPXXX"

# Invoicing (invoicing domain).
INVOICING_SERVICE_FEE_VAT_BP = 2000  # VAT on the platform's service fee: 20 %, the standard rate
INVOICING_PAYMENT_DAYS = 30  # invoices and pro-formas are due this many days after issue
INVOICING_QUOTE_VALIDITY_DAYS = 30
# Late-payment penalty per year in basis points; None prints the legal minimum, three times the
# French statutory interest rate (Commercial Code L441-10).
INVOICING_LATE_PENALTY_RATE_BP = None
INVOICING_RECOVERY_INDEMNITY_CENTS = 4000  # the fixed 40 € indemnity owed by business buyers
# The consumer mediator the platform has signed up with (French Consumer Code, L612-1 and
# L616-1): named in the terms of sale once set; production warns at start while one is missing.
CONSUMER_MEDIATOR_NAME = None
CONSUMER_MEDIATOR_ADDRESS = None  # postal address, one line
CONSUMER_MEDIATOR_WEBSITE = None  # https://..., where a consumer refers a dispute

STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")

# Photo uploads: bytes per file, pixels per image (decompression bombs are refused), request size.
UPLOAD_MAX_BYTES = 8 * 1024 * 1024
UPLOAD_MAX_PIXELS = 40_000_000
MAX_CONTENT_LENGTH = 20 * 1024 * 1024

# Orders and payments
HOLD_MINUTES = 30  # stock and slot places are kept this long for an unpaid checkout
PLATFORM_COMMISSION_BP = 500  # 5 %, when a seller has no rate of its own

# Gift cards (giftcards domain). Amounts in cents.
GIFTCARD_MIN_CENTS = 1000
GIFTCARD_MAX_CENTS = 15000  # cap for anonymous prepaid cards (French AML rule): a setting
GIFTCARD_PRESET_CENTS = (2000, 3000, 5000, 10000)
GIFTCARD_VALIDITY_MONTHS = 12  # never less than 12 (create_app refuses it)
# What is left on a card at expiry: "keep" (stays with the platform) or "donate" (given to the
# association whose slug is GIFTCARD_EXPIRY_ASSOCIATION).
GIFTCARD_EXPIRY_POLICY = "keep"
GIFTCARD_EXPIRY_ASSOCIATION = None
# Limited-network exemption: past 1 million euros of card payments over 12 months the platform
# must declare itself to the ACPR (Banque de France); the admin page compares both figures to
# this threshold and warns from GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT of it.
GIFTCARD_LIMITED_NETWORK_THRESHOLD_CENTS = 1_000_000_00
GIFTCARD_LIMITED_NETWORK_WARNING_PERCENT = 80
# Gift card lookups per client (address): wrong codes are refused once GIFTCARD_LOOKUP_LIMIT is
# used up, while right codes are still accepted (many people share one address on a shop's Wi-Fi
# or a mobile network); every lookup, right or wrong, counts against the much higher hard cap.
GIFTCARD_LOOKUP_LIMIT = "10 per hour"
GIFTCARD_LOOKUP_HARD_LIMIT = "300 per hour"
# How long what a counter scan found stays actionable (a card's payment form, a voucher's
# "Collected"): after that, the voucher or card is scanned again.
COUNTER_TICKET_SECONDS = 15 * 60

# Works-council campaigns (campaigns domain). Amounts in cents.
# The most one campaign card may carry (named cards: the 150 EUR anonymous cap does not apply).
CAMPAIGN_CARD_MAX_CENTS = 100000
# The platform's service fee on a campaign, before VAT: a rate in basis points of the cards' face
# value (250 = 2.5 %; 0: no fee line), rounded half up to the cent. VAT is added at
# INVOICING_SERVICE_FEE_VAT_BP (none under the VAT franchise); the face value itself bears none.
CAMPAIGN_SERVICE_FEE_BP = 250
# Sending campaign cards by email: at most this many a second from each worker (Celery's rate
# syntax: "10/s", "300/m"), each address tried this many times, the first retry after this many
# seconds (then twice as long each time); a card queued but not sent (worker lost) is queued
# again after this many minutes.
CAMPAIGN_MAIL_RATE = "10/s"
CAMPAIGN_MAIL_ATTEMPTS = 3
CAMPAIGN_MAIL_RETRY_SECONDS = 300
CAMPAIGN_MAIL_REQUEUE_MINUTES = 60
# A seller's message to its opted-in customers (consent domain): one per this many days per
# seller (against spam), sent in batches of this many addresses, the batches at most at this rate
# from each worker (Celery's syntax), each address tried this many times, the first retry after
# this many seconds (then twice as long each time).
SELLER_MESSAGE_MIN_DAYS = 7
SELLER_MESSAGE_BATCH = 50
SELLER_MESSAGE_BATCH_RATE = "6/m"
SELLER_MESSAGE_ATTEMPTS = 3
SELLER_MESSAGE_RETRY_SECONDS = 300
CAMPAIGN_IMPORT_MAX_LINES = 20000  # beneficiaries per spreadsheet
CAMPAIGN_IMPORT_MAX_BYTES = 8 * 1024 * 1024
PRODUCT_IMPORT_MAX_LINES = 10000  # products per spreadsheet (docs/sellers.md)
# A campaign paid by bank transfer through Stripe: its order waits this long for the money.
CAMPAIGN_TRANSFER_HOLD_DAYS = 30
# The monthly social security ceiling (PMSS) of each year, in cents: URSSAF exempts a works
# council's gift vouchers up to 5 % of it per employee and year (then 5 % per event). Add each
# new year when it is published (JORF, December).
URSSAF_PMSS_CENTS = {2024: 386400, 2025: 392500, 2026: 400500}

# Payouts to sellers (ledger domain).
PAYOUT_MINIMUM_CENTS = 1000
STRIPE_CHECKOUT_MIN_MINUTES = 30  # Stripe refuses a Checkout Session expiring sooner

# Stripe (payments domain). Without STRIPE_SECRET_KEY the demo gateway takes the payments.
# Another API base (https://..., no trailing slash), e.g. stripe-mock (http://localhost:12111).
STRIPE_API_BASE = None
# Seconds a Stripe API call may take, and how many times the SDK retries a network error or a
# 409/5xx (always with the same idempotency key, so a retry never pays or refunds twice).
STRIPE_TIMEOUT_SECONDS = 20
STRIPE_MAX_NETWORK_RETRIES = 2
# An object implementing stripe.HTTPClient used instead of the network (tests plug an
# in-process fake Stripe here); never set it in production.
STRIPE_HTTP_CLIENT = None

# Operations (marketplace/observability.py): logs as text lines here, JSON in production, each
# line with its request id; one line per request when LOG_REQUESTS is on (off by default: the
# balancer's or gunicorn's access log does it without costing the app's workers). /metrics answers only
# with "Authorization: Bearer <METRICS_TOKEN>" (a 404 without a token). Sentry when SENTRY_DSN is
# set (pip install -e ".[sentry]").
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
LOG_REQUESTS = False
METRICS_TOKEN = None
SENTRY_DSN = None
