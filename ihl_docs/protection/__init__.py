"""Protected terms: per case, the names, numbers, places and handles that court and public
dossiers replace with placeholders, and staff members' consent to be named."""


def init_app(app) -> None:
    """The register's page, its place on the case page, its audit projection and export part."""
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.core.case_records import register_record_part
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.protection import services
    from ihl_docs.protection.export_part import PART
    from ihl_docs.protection.projection import PROTECTED_TERM
    from ihl_docs.protection.views import bp

    app.register_blueprint(bp)
    register_case_section(app, CaseSection(
        "protection/_case_section.html",
        lambda session, user, case: {"can_manage": services.can_manage(session, user, case)}))
    register_projection(app, PROTECTED_TERM)
    register_record_part(app, PART)
