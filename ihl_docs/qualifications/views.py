"""Qualification pages (being built)."""

from flask import Blueprint

bp = Blueprint("qualifications", __name__)
