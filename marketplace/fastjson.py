"""JSON answers through orjson: the same JSON as Flask's default provider (keys sorted, compact,
dates and lazy texts by the app's `default`), several times faster to write for the API's
lists (bench/RESULTS.md, "make bench"). Non-ASCII text is written as UTF-8 instead of \\u
escapes: the same JSON for every parser. Anything orjson refuses (an integer above 64 bits,
indented output in debug) goes to Flask's encoder as before."""
from __future__ import annotations

import typing as t

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        if set(kwargs) <= {"separators"} and kwargs.get("separators", (",", ":")) == (",", ":"):
            try:
                # datetime, date and time go through `default`, as with Flask's encoder
                # (HTTP dates); so does whatever orjson does not know (a lazy text, Decimal).
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except (orjson.JSONEncodeError, TypeError):
                pass
        return super().dumps(obj, **kwargs)
