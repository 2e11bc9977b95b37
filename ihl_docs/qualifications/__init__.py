"""Legal qualification: incidents linked to provisions, element findings, the proof matrix."""


def init_app(app) -> None:
    from ihl_docs.core.case_records import register_record_part
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.qualifications.export_part import PART as RECORD_PART
    from ihl_docs.qualifications.views import bp

    app.register_blueprint(bp)
    register_case_section(app, CaseSection("qualifications/_case_section.html"))
    register_record_part(app, RECORD_PART)
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.qualifications.projection import QUALIFICATION

    register_projection(app, QUALIFICATION)
    from ihl_docs.incidents.approval import register_approval_check
    from ihl_docs.qualifications.services import unsupported_elements

    register_approval_check(app, unsupported_elements)
