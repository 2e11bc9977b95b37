"""Administrators manage accounts: create, change roles, deactivate and reactivate."""


def init_app(app) -> None:
    from ihl_docs.users.views import bp

    app.register_blueprint(bp)
