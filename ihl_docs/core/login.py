"""Flask-Login wiring: the cookie holds a server-side session token, never a user id. The auth
feature gives the login manager its user loader."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

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
