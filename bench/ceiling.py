"""The ceiling of bench/run_all.py: a bare Flask app that answers each benchmarked address with
the bytes (and content type) the marketplace gave for it, read once from the pickle file named
by CEILING_PAGES. Served by the same gunicorn with the same settings, it shows what gunicorn,
Flask and the load tool cost on this machine, with no work of the app's own."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

from flask import Flask, Response, request

with Path(os.environ["CEILING_PAGES"]).open("rb") as file:
    PAGES: dict[str, tuple[str, bytes]] = pickle.load(file)  # noqa: S301 - our own file

app = Flask(__name__)


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def page(path: str):
    query = request.query_string.decode()
    content_type, body = PAGES[request.path + ("?" + query if query else "")]
    return Response(body, content_type=content_type)
