"""Legal qualification: incidents linked to provisions, element findings, the proof matrix."""


def init_app(app) -> None:
    from ihl_docs.qualifications.views import bp

    app.register_blueprint(bp)
