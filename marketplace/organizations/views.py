"""Organization pages (placeholder routes; the organizations work fills them in)."""
from flask import Blueprint

bp = Blueprint("organizations", __name__)


@bp.get("/my/organizations")
def my_organizations():
    return "orgs"


@bp.route("/organizations/apply", methods=["GET", "POST"])
def apply():
    return "apply"
