"""Accounts pages (placeholder routes; the accounts work fills them in)."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"


@bp.route("/register", methods=["GET", "POST"])
def register():
    return "register"


@bp.post("/logout")
def logout():
    return "logout"


@bp.get("/account")
def account():
    return "account"
