"""ihl_docs: documenting suspected violations of international humanitarian law."""

import os
from pathlib import Path

from flask import Flask

from ihl_docs.core.config import PROJECT_ROOT, flask_settings, load_config

PACKAGE_DIR = Path(__file__).resolve().parent


def _template_folder() -> str:
    checkout = PROJECT_ROOT / "templates"
    return str(checkout if checkout.is_dir() else PACKAGE_DIR / "templates")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, database, job queue, blueprints, errors, CLI."""
    instance = os.environ.get("IHL_INSTANCE_DIR") or str(PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=instance, template_folder=_template_folder(),
                static_folder="static")
    config = load_config(Path(app.instance_path), overrides=test_config)
    app.config.update(flask_settings(config))
    app.config.update(config)

    register_database(app)
    register_jobs(app)
    register_security(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_proxies(app)
    return app


def register_proxies(app: Flask) -> None:
    """Behind IHL_PROXIES reverse proxies, take the client's address, scheme and host from
    the X-Forwarded-* headers the nearest ones set (and only those: others could be forged)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    count = app.config["PROXIES"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,
                                x_port=count)


def register_database(app: Flask) -> None:
    from ihl_docs.core.db import close_session, make_engine
    from ihl_docs.evidence.upload import init_uploads

    app.extensions["ihl_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)
    init_uploads(app)


def register_jobs(app: Flask) -> None:
    from ihl_docs.core.jobs import init_jobs

    init_jobs(app)


def register_security(app: Flask) -> None:
    from ihl_docs.core.login import init_login
    from ihl_docs.core.security import init_security

    init_login(app)
    init_security(app)


def register_blueprints(app: Flask) -> None:
    from ihl_docs.api import bp as api_bp
    from ihl_docs.audit_pages.checkpoint_views import bp as audit_checkpoints_bp
    from ihl_docs.audit_pages.views import bp as audit_bp
    from ihl_docs.auth.views import bp as auth_bp
    from ihl_docs.cases.views import bp as cases_bp
    from ihl_docs.dossiers.views import bp as dossiers_bp
    from ihl_docs.evidence.views import bp as evidence_bp
    from ihl_docs.incidents.views import bp as incidents_bp
    from ihl_docs.provisions.views import bp as provisions_bp
    from ihl_docs.qualifications.views import bp as qualifications_bp
    from ihl_docs.users.views import bp as users_bp
    from ihl_docs.verification.views import bp as verification_bp

    for bp in (auth_bp, cases_bp, incidents_bp, evidence_bp, provisions_bp, qualifications_bp,
               dossiers_bp, users_bp, audit_bp, audit_checkpoints_bp, verification_bp, api_bp):
        app.register_blueprint(bp)


def register_errorhandlers(app: Flask) -> None:
    from ihl_docs.core.web import init_errorhandlers

    init_errorhandlers(app)


def register_template_helpers(app: Flask) -> None:
    from ihl_docs.core.web import init_template_helpers

    init_template_helpers(app)


def register_commands(app: Flask) -> None:
    from ihl_docs.cli import init_app

    init_app(app)
