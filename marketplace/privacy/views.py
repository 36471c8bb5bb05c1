"""The shopper's data: download it (JSON) and erase the account (/account/data)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from marketplace import uow
from marketplace.privacy import services
from marketplace.privacy.forms import EraseForm
from marketplace.security import private

bp = Blueprint("privacy", __name__)


def _blocked_reason():
    try:
        services.check_erasable(current_user)
    except services.PrivacyError as exc:
        return exc.message
    return None


@bp.get("/account/data")
@login_required
def my_data():
    return private(Response(render_template("privacy/my_data.html", form=EraseForm(),
                                            blocked=_blocked_reason())))


@bp.get("/account/data/download")
@login_required
def download():
    data = services.export_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return private(Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"'}))


@bp.post("/account/data/erase")
@login_required
def erase():
    form = EraseForm()
    status = 400
    if form.validate_on_submit():
        try:
            services.erase(current_user._get_current_object(), password=form.password.data)
        except services.PrivacyError as exc:
            uow.refuse()
            form.password.errors = [*form.password.errors, str(exc.message)]
            status = exc.status_code
        else:
            logout_user()
            flash(_("Your account is erased. Thank you for having shopped here."), "success")
            return redirect(url_for("site.home"), 303)
    return private(Response(render_template("privacy/my_data.html", form=form,
                                            blocked=_blocked_reason()), status))
