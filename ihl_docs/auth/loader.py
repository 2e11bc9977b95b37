"""Flask-Login's user loader: the cookie's login session token back to its account."""

from flask import current_app

from ihl_docs.auth.services import user_for_login_session
from ihl_docs.core.db import open_session
from ihl_docs.core.login import CurrentUser


def load_user(token: str):
    """The account of a live login session, or None."""
    # A short read-only session of its own: a writing request must not take SQLite's write lock
    # here, before its body (perhaps a large upload) has even been received.
    with open_session(current_app.extensions["ihl_engine"], write=False) as session:
        user = user_for_login_session(session, token)
    return CurrentUser(user, token) if user else None
