"""/dev/outbox: the mails the development server 'sent', with clickable links (debug only)."""
from flask import Blueprint, abort, current_app, render_template

from marketplace.notifications.outbox import read_outbox

bp = Blueprint("notifications", __name__)


@bp.get("/dev/outbox")
def outbox():
    if not (current_app.debug and current_app.config["DEV_OUTBOX_ENABLED"]):
        abort(404)
    return render_template("notifications/outbox.html", emails=read_outbox())
