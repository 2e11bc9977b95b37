"""Evidence pages (being built)."""

from flask import Blueprint

bp = Blueprint("evidence", __name__)
