"""Production: secrets only from the environment; refuses to start with a default secret."""
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
PREFERRED_URL_SCHEME = "https"
HSTS_SECONDS = 31536000
MAIL_BACKEND = "smtp"
DEV_OUTBOX_ENABLED = False
LOG_FORMAT = "json"
