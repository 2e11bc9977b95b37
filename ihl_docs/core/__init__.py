"""The core: what every feature needs, knowing no feature, no API and no CLI.

Configuration, the database, the models, domain errors, the evidence store, the audit log (the
writer, the chain, signed checkpoints), the access policy, the job registry, and what every page
shares (log-in, CSRF and headers, error pages, template helpers, form support)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Set up the core on a configured application, before the features plug in."""
    from ihl_docs.core import commands, file_modes
    from ihl_docs.core.db import close_session, make_engine
    from ihl_docs.core.jobs import init_jobs
    from ihl_docs.core.login import init_login
    from ihl_docs.core.security import init_security
    from ihl_docs.core.storage import EvidenceStore
    from ihl_docs.core.web import init_errorhandlers, init_proxies, init_template_helpers

    file_modes.init_app(app)
    app.extensions["ihl_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)
    app.extensions["ihl_store"] = EvidenceStore(app.config["EVIDENCE_DIR"])
    init_jobs(app)
    init_login(app)
    init_security(app)
    init_errorhandlers(app)
    init_template_helpers(app)
    init_proxies(app)
    commands.init_app(app)
