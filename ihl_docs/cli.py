"""The `ihl` command: a Flask CLI group bound to create_app. The commands themselves belong to
the core and to the features, which add them to the application."""

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, SQLAlchemyError


@click.group(cls=FlaskGroup, create_app=lambda: _create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def cli():
    """ihl_docs: documentation of suspected violations of international humanitarian law."""


def _create_app():
    from ihl_docs import create_app

    return create_app()


def main():
    """Entry point of the `ihl` console script."""
    from ihl_docs.core.config import ConfigurationError
    from ihl_docs.core.jobs import QueueConfigurationError

    try:
        cli.main(prog_name="ihl")
    except (QueueConfigurationError, ConfigurationError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        click.echo(f"Error: the database could not be used ({exc.orig.__class__.__name__}). "
                   "Is IHL_DATABASE_URL right, and has `ihl init` been run?", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"Error: database error ({exc.__class__.__name__}).", err=True)
        sys.exit(1)
