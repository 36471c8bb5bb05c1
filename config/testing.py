"""pytest: fast password hashing, in-memory mail, no throttling unless a test asks for it."""
TESTING = True
SECRET_KEY = "testing-secret"  # noqa: S105
SERVER_NAME = "localhost"
SERVER_BASE_URL = "http://localhost"
WTF_CSRF_ENABLED = False
RATELIMIT_ENABLED = False
MAIL_BACKEND = "locmem"
ARGON2_TIME_COST = 1
ARGON2_MEMORY_COST = 8
ARGON2_PARALLELISM = 1
CELERY_BROKER_URL = None
CATALOG_CACHE_SECONDS = 0  # tests/catalog/test_page_cache.py turns it on
AUDIENCE_FLUSH_SECONDS = 0  # the page views are written when a test calls audience.flush()
