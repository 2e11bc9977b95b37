"""The legal catalogue: instruments, provisions and their elements, states' participation."""


def init_app(app) -> None:
    """Pages, `ihl provisions import`, and the bundled catalogue loaded by `ihl init`."""
    from ihl_docs.core.commands import register_init_step
    from ihl_docs.provisions.catalogue import bundled_catalogue_step
    from ihl_docs.provisions.commands import provisions_group, treaties_group
    from ihl_docs.provisions.treaty_views import bp as treaties_bp
    from ihl_docs.provisions.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(treaties_bp)
    app.cli.add_command(provisions_group)
    app.cli.add_command(treaties_group)
    register_init_step(app, bundled_catalogue_step)
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.provisions.projection import (
        ICC_BASIS,
        INSTRUMENT,
        INSTRUMENT_PARTY,
        PROVISION,
        RULE,
    )

    register_projection(app, INSTRUMENT)
    register_projection(app, INSTRUMENT_PARTY)
    register_projection(app, PROVISION)
    register_projection(app, RULE)
    register_projection(app, ICC_BASIS)
