"""Provision pages (being built)."""

from flask import Blueprint

bp = Blueprint("provisions", __name__)
