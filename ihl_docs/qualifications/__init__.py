"""Legal qualification: incidents linked to provisions, element findings, the proof matrix."""


def init_app(app) -> None:
    from ihl_docs.core.web import CaseSection, register_case_section
    from ihl_docs.qualifications.views import bp

    app.register_blueprint(bp)
    register_case_section(app, CaseSection("qualifications/_case_section.html"))
