"""Public pages: home, search, seller shopfront, cart, legal pages, language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.db import db
from marketplace.i18n import LANG_COOKIE
from marketplace.organizations import services as organizations

bp = Blueprint("site", __name__)

LEGAL_PAGES = ("notice", "terms", "privacy", "accessibility")


@bp.get("/")
def home():
    sellers = db.session.scalars(organizations.public_sellers().limit(24)).all()
    return render_template("site/home.html", sellers=sellers)


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()[:100]
    sellers = db.session.scalars(organizations.public_sellers(query=query).limit(50)).all() if query else []
    return render_template("site/search.html", query=query, sellers=sellers)


@bp.get("/sellers/<slug>")
def seller(slug: str):
    organization = organizations.get_public_seller(slug)
    if organization is None:
        abort(404)
    return render_template("site/seller.html", seller=organization)


@bp.get("/cart")
def cart():
    return render_template("site/cart.html")


@bp.get("/legal/<page>")
def legal(page: str):
    if page not in LEGAL_PAGES:
        abort(404)
    from marketplace.i18n import current_locale_code

    return render_template(f"site/legal/{current_locale_code()}/{page}.html", page=page)


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    response = redirect(safe_next(request.form.get("next")))
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    if current_user.is_authenticated and current_user.locale != language:
        current_user.locale = language
        db.session.commit()
    return response


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site paths are followed after a form, never another host."""
    default = default or url_for("site.home")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
