"""Background jobs of the notifications domain."""
from marketplace.extensions import celery
from marketplace.notifications.services import OutgoingEmail, send_now


@celery.task(name="notifications.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(message: dict) -> None:
    send_now(OutgoingEmail.from_dict(message))
