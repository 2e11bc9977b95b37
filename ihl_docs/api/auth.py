"""Bearer-token authentication: the token alone says who is asking; no cookie is read or set."""

from flask import g, request
from flask.sessions import SecureCookieSession, SessionInterface

from ihl_docs.api.errors import ApiError
from ihl_docs.auth.services import user_for_token
from ihl_docs.core.db import get_session
from ihl_docs.core.models import User

MAX_TOKEN_LENGTH = 200


def authenticate() -> User:
    """Resolve the request's bearer token to an active user, kept on `g`; 401 otherwise."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorised("Send an API token: Authorization: Bearer <token>.", "")
    user = None
    if len(token) <= MAX_TOKEN_LENGTH:
        user = user_for_token(get_session(), token)
    if user is None:
        raise _unauthorised("This API token is unknown, revoked or belongs to a disabled "
                            "account.", ', error="invalid_token"')
    g.api_user = user
    return user


def api_user() -> User:
    """The user the current request's token belongs to."""
    return g.api_user


def _unauthorised(message: str, detail: str) -> ApiError:
    challenge = f'Bearer realm="ihl_docs"{detail}'
    return ApiError(401, "unauthorised", message, headers={"WWW-Authenticate": challenge})


class _UnsavedSession(SecureCookieSession):
    """An empty session for an API request: whatever is written to it is never sent."""


class CookielessApiSessions(SessionInterface):
    """The app's own session handling, except under `prefix`: no cookie is read or set there.

    Without this, a browser's permanent login cookie would be re-sent on every API answer.
    """

    def __init__(self, inner: SessionInterface, prefix: str):
        self.inner, self.prefix = inner, prefix.rstrip("/") + "/"

    def open_session(self, app, request):
        if request.path.startswith(self.prefix):
            return _UnsavedSession()
        return self.inner.open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not isinstance(session, _UnsavedSession):
            self.inner.save_session(app, session, response)

    def is_null_session(self, obj) -> bool:
        return self.inner.is_null_session(obj)

    def __getattr__(self, name):
        return getattr(self.inner, name)
