"""Cases: their record, parties to the conflict and members."""


def init_app(app) -> None:
    from ihl_docs.cases.export_part import PART as RECORD_PART
    from ihl_docs.cases.views import bp
    from ihl_docs.core.case_records import register_record_part

    app.register_blueprint(bp)
    register_record_part(app, RECORD_PART)
    from ihl_docs.cases.projection import CASE, MEMBER
    from ihl_docs.core.audit.replay import register_projection

    register_projection(app, CASE)
    register_projection(app, MEMBER)
