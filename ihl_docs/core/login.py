"""Flask-Login wiring: the cookie holds a server-side session token, never a user id."""

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from ihl_docs.core.db import open_session
from ihl_docs.auth.services import user_for_login_session

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


class CurrentUser(UserMixin):
    """The logged-in account together with the login session it came through."""

    def __init__(self, user, token: str):
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name):
        return getattr(self.user, name)


@login_manager.user_loader
def load_user(token: str):
    # A short read-only session of its own: a writing request must not take SQLite's write lock
    # here, before its body (perhaps a large upload) has even been received.
    with open_session(current_app.extensions["ihl_engine"], write=False) as session:
        user = user_for_login_session(session, token)
    return CurrentUser(user, token) if user else None


def init_login(app) -> None:
    login_manager.init_app(app)

    @app.before_request
    def require_fresh_password():
        allowed = {"auth.change_password", "auth.logout", "static"}
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in allowed and not request.path.startswith("/api/")):
            return redirect(url_for("auth.change_password"))
        return None


def role_required(*roles):
    """Refuse the view (403) unless the logged-in user has one of `roles`."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
