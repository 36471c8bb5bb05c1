"""JSON answers through orjson (marketplace/fastjson.py) say what Flask's own encoder said."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

from marketplace.fastjson import OrjsonProvider
from marketplace.i18n import lazy_gettext


def test_the_same_json_as_flasks_encoder(app):
    assert isinstance(app.json, OrjsonProvider)
    flask_encoder = DefaultJSONProvider(app)
    flask_encoder.default = app.json.default  # the app's (lazy texts as their text)
    value = {
        "when": datetime(2026, 12, 3, 18, 30, tzinfo=UTC), "day": date(2026, 12, 24),
        "message": lazy_gettext("Out of stock"), "amount": Decimal("12.50"),
        "b": [1, 2.5, None, True, "é€"], "a": {"nested": "ok"}, "huge": 2**70,
    }
    fast = app.json.dumps(value, separators=(",", ":"))
    assert json.loads(fast) == json.loads(flask_encoder.dumps(value, separators=(",", ":")))
    assert json.loads(fast)["when"] == "Thu, 03 Dec 2026 18:30:00 GMT"
    small = {"b": 1, "a": "é"}
    assert app.json.dumps(small, separators=(",", ":")) == '{"a":"é","b":1}'  # sorted, UTF-8


def test_api_answers_are_written_by_it(client):
    response = client.get("/api/v1/products")
    assert response.status_code == 200 and response.get_json() == {"items": [], "next_cursor": None}
