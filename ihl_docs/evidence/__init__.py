"""Evidence: streamed, hashed uploads, metadata, custody chains and incident links."""


def init_app(app) -> None:
    """Pages, and the request class that hashes an upload as it arrives."""
    from ihl_docs.core.case_records import register_record_part
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.evidence.export_part import PART as RECORD_PART
    from ihl_docs.evidence.upload import init_uploads
    from ihl_docs.evidence.views import bp

    init_uploads(app)
    app.register_blueprint(bp)
    register_case_section(app, CaseSection("evidence/_case_section.html"))
    register_record_part(app, RECORD_PART)
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.evidence.projection import CUSTODY, ITEM, LINK

    register_projection(app, ITEM)
    register_projection(app, LINK)
    register_projection(app, CUSTODY)
