"""Incident pages (being built)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("incidents", __name__)


@bp.route("/incidents")
@login_required
def search():
    return "incidents"
