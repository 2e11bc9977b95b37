"""User administration pages (being built)."""

from flask import Blueprint

from ..auth.login import role_required

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/")
@role_required("admin")
def index():
    return "users"
