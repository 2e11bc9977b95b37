"""The auditors' pages on the audit log: browsing, record histories, published checkpoints,
and `ihl audit` (checkpoint, export)."""


def init_app(app) -> None:
    from ihl_docs.audit_pages.checkpoint_views import bp as checkpoints_bp
    from ihl_docs.audit_pages.commands import audit_group
    from ihl_docs.audit_pages.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(checkpoints_bp)
    app.cli.add_command(audit_group)
