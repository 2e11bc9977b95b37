"""Incidents: filing, editing, the review workflow and search."""


def init_app(app) -> None:
    """Pages, and the words the audit log uses for an incident's fields."""
    from ihl_docs.core.audit.history import register_field_labels
    from ihl_docs.incidents.forms import FIELD_LABELS
    from ihl_docs.incidents.views import bp

    app.register_blueprint(bp)
    register_field_labels(app, "incident", FIELD_LABELS)
