"""marshmallow schemas of the counter's JSON bodies (scanner apps, benchmarks): a body that does
not fit answers 400 with a message saying what is expected and the fields that are wrong."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

NONCE_MAX = 64


class StrictInteger(fields.Integer):
    """A number written as an integer in the JSON: not a text, a float or a boolean."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):  # an int to Python, not to whoever wrote the JSON
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class CounterBody(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # scanner apps may send more than this endpoint reads


class DebitBody(CounterBody):
    """POST /orgs/<id>/counter/cards/debit: {"q", "amount_cents", "nonce"}, and "category"
    (the slug of what is bought) for a works council's restricted card."""

    q = fields.String(required=True)
    amount_cents = StrictInteger(required=True)
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=NONCE_MAX))
    category = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=40))


def wrong_fields(error: ma.ValidationError) -> list[str]:
    """The names of the fields a body got wrong ("_schema": not a JSON object at all)."""
    messages = error.messages
    return sorted(messages) if isinstance(messages, dict) else ["_schema"]
