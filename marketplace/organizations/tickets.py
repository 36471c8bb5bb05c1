"""Counter tickets: the proof, carried by a counter form, that this staff member found this
voucher or gift card by what its holder shows (the QR code or the typed code) during this visit,
at this organization's counter.

An action at the counter (collecting a voucher, debiting a card) never takes a bare database
id: ids run 1, 2, 3... and would let any clerk reach any voucher or card. The page that shows
what a scan found carries a ticket signed with the app's secret key for (kind, id, staff member,
organization), valid COUNTER_TICKET_SECONDS; the action reads the id back from it."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MAX_LENGTH = 200  # a ticket is about 60 characters; anything much longer is not one of ours


class BadTicket(Exception):
    """Not a ticket this staff member was given at this counter for this kind of thing."""


class ExpiredTicket(BadTicket):
    """A ticket given too long ago: the holder must show the voucher or card again."""


def _serializer(kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"counter-ticket:{kind}")


def issue(kind: str, object_id: int, *, user_id: int, organization_id: int) -> str:
    """Call only once the object was found by its secret (a scan or a typed code)."""
    return _serializer(kind).dumps([object_id, user_id, organization_id])


def read(kind: str, ticket: str | None, *, user_id: int, organization_id: int) -> int:
    """The id the ticket was issued for; BadTicket or ExpiredTicket otherwise."""
    if not ticket or len(ticket) > MAX_LENGTH:
        raise BadTicket
    try:
        data = _serializer(kind).loads(ticket, max_age=current_app.config["COUNTER_TICKET_SECONDS"])
    except SignatureExpired as exc:
        raise ExpiredTicket from exc
    except BadSignature as exc:
        raise BadTicket from exc
    if not (isinstance(data, list) and len(data) == 3 and all(type(v) is int for v in data)
            and data[1] == user_id and data[2] == organization_id):
        raise BadTicket
    return data[0]
