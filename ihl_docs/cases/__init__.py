"""Cases: their record, parties to the conflict and members."""


def init_app(app) -> None:
    from ihl_docs.cases.views import bp

    app.register_blueprint(bp)
