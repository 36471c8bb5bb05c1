"""`make run`: debug on, mails to the outbox shown at /dev/outbox."""
DEBUG = True
DEV_OUTBOX_ENABLED = True
