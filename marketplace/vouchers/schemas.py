"""marshmallow schema of the counter's one-request redemption body (express scanning, scanner
apps): a body that does not fit answers 400, saying what is expected and which fields are wrong."""
from __future__ import annotations

from marshmallow import fields, validate

from marketplace.giftcards.schemas import CounterBody, StrictInteger

MAX_LINES = 500


class RedeemBody(CounterBody):
    """POST /orgs/<id>/counter/redeem: {"q", "nonce", "lines" (optional: every line)}."""

    q = fields.String(required=True)
    nonce = fields.String(required=True)
    lines = fields.List(StrictInteger(validate=validate.Range(min=1, max=2**31 - 1)),
                        validate=validate.Length(max=MAX_LINES), load_default=None,
                        allow_none=True)
