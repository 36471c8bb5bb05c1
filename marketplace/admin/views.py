"""Platform admin pages (placeholder routes; the organizations work fills them in)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def dashboard():
    return "admin"
