"""Accounts and logging in: the log-in pages, passwords, login sessions and API tokens."""


def init_app(app) -> None:
    """Log-in pages, the user loader, `ihl users` / `ihl tokens`, the first administrator."""
    from ihl_docs.auth.commands import tokens_group, users_group
    from ihl_docs.auth.loader import load_user
    from ihl_docs.auth.projection import TOKEN, USER
    from ihl_docs.auth.services import first_admin_step, kept_password, pending_password_notice
    from ihl_docs.auth.views import bp
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.core.commands import register_init_step, register_start_notice
    from ihl_docs.core.file_modes import register_kept_paths
    from ihl_docs.core.login import login_manager

    login_manager.user_loader(load_user)
    app.register_blueprint(bp)
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
    register_init_step(app, first_admin_step)  # registered last of the steps: its password
    register_start_notice(app, lambda app: pending_password_notice(app.instance_path))
    register_kept_paths(app, kept_password)
    register_projection(app, USER)
    register_projection(app, TOKEN)
