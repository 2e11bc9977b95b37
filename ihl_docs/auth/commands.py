"""`ihl users` and `ihl tokens`: accounts and API tokens from the command line."""

import sys

import click
from flask.cli import AppGroup, with_appcontext

from ihl_docs.core.commands import commit_or_fail
from ihl_docs.core.models import Role


@click.group("users", cls=AppGroup)
def users_group():
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="The person's name as shown in the application.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(email, role, name, password_stdin):
    """Create an account."""
    from ihl_docs.auth import services as auth

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise click.UsageError("No terminal to ask for the password: use --password-stdin.")
    user = commit_or_fail(
        lambda s: auth.create_user(s, email, role, password, name=name, actor="ihl users create")
    )
    click.echo(f"Created {user.email} ({user.role}).")


@click.group("tokens", cls=AppGroup)
def tokens_group():
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def tokens_create(email, name):
    """Print a new API token for a user (shown once; only its hash is kept)."""
    from ihl_docs.auth import services as auth

    token = commit_or_fail(lambda s: auth.create_token(s, email, name=name,
                                                        actor="ihl tokens create"))
    click.echo(f"API token for {email.strip().lower()} (shown once):")
    click.echo(token)
