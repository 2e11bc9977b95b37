"""The JSON API under /api/v1: bearer tokens, the routes of routes.py, the OpenAPI document.

No cookie is read or set here, so the API is exempt from CSRF protection.
"""

from flask import Blueprint

from ihl_docs.core.security import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.after_request
def no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _register() -> None:
    from ihl_docs.api.auth import CookielessApiSessions
    from ihl_docs.api.errors import init_errorhandlers
    from ihl_docs.api.routes import register_routes

    register_routes(bp)
    init_errorhandlers(bp)
    bp.record_once(lambda state: setattr(state.app, "session_interface", CookielessApiSessions(
        state.app.session_interface, bp.url_prefix)))


_register()


def init_app(app) -> None:
    app.register_blueprint(bp)
