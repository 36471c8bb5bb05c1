"""/dev/outbox: the mails the development server 'sent', with clickable links (development
config only; never in production, whatever the settings say)."""
from flask import Blueprint, Flask, abort, current_app, render_template

from marketplace.notifications.outbox import read_outbox

bp = Blueprint("notifications", __name__)


def outbox_enabled(app: Flask) -> bool:
    """Tied to the config, not to DEBUG: `flask run` (and so `make run`) turns DEBUG off
    unless --debug is given, and the page must be there for whoever follows the README."""
    return bool(app.config["DEV_OUTBOX_ENABLED"]) and app.config["CONFIG_NAME"] != "production"


@bp.get("/dev/outbox")
def outbox():
    if not outbox_enabled(current_app):
        abort(404)
    return render_template("notifications/outbox.html", emails=read_outbox())
