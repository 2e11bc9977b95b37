"""The commands of the core: `ihl init`, `ihl serve`, `ihl worker`, `ihl gc`; and the one way
every command commits its work."""

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from ihl_docs.core.db import get_session
from ihl_docs.core.errors import DomainError

# A step of `ihl init` after the schema: given the session and the command's options, it does
# its part (flushing, never committing) and returns the lines to print once it is committed.
InitStep = Callable[[Session, dict], list[str]]


def init_app(app) -> None:
    app.extensions["ihl_init_steps"] = []
    app.extensions["ihl_start_notices"] = []
    for command in (init_command, gc_command, serve_command, worker_command):
        app.cli.add_command(command)


def address_file(app) -> Path:
    """Where `ihl serve` writes the address it listens on, while it runs."""
    return Path(app.instance_path) / "serving-address.txt"


def register_start_notice(app, notice) -> None:
    """Add lines `ihl serve` prints once it listens: `notice(app)` gives them (or none)."""
    app.extensions["ihl_start_notices"].append(notice)


def register_init_step(app, step: InitStep) -> None:
    """Add what a feature sets up on a new instance (run by `ihl init`, in registration order)."""
    app.extensions["ihl_init_steps"].append(step)


def commit_or_fail(action):
    """Run `action(session)` and commit; a refused operation becomes one clear line, exit 1."""
    session = get_session()
    try:
        result = action(session)
        session.commit()
        return result
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None


def run_init_steps(options: dict) -> list[str]:
    """Each feature's set-up step, each committed on its own; the lines they print."""
    lines = []
    for step in current_app.extensions["ihl_init_steps"]:
        lines += commit_or_fail(lambda s, step=step: step(s, options))
    return lines


@click.command("init")
@click.option("--admin-email", default="admin@example.org", show_default=True,
              help="The first administrator's e-mail, used only if there is no account yet.")
@with_appcontext
def init_command(admin_email):
    """Create or upgrade the schema; on a database with no account, create an administrator;
    take from the instance's files and folders what others may read (file_modes.py)."""
    from ihl_docs.core.file_modes import tighten
    from ihl_docs.core.schema import upgrade

    before, after = upgrade(current_app.extensions["ihl_engine"])
    if before == after:
        click.echo(f"Schema is up to date (revision {after}).")
    else:
        click.echo(f"Schema upgraded from {before or 'nothing'} to revision {after}.")
    for line in tighten(current_app):
        click.echo(line)
    options = {"admin_email": admin_email, "actor": "ihl init",
               "instance_dir": current_app.instance_path}
    for line in run_init_steps(options):
        click.echo(line)


@click.command("gc")
@click.option("--older-than-minutes", default=60, show_default=True, type=click.IntRange(0),
              help="Only uploads left this long ago (newer ones may still be in progress).")
@with_appcontext
def gc_command(older_than_minutes):
    """Remove temporary files left in the evidence store by interrupted uploads."""
    removed = current_app.extensions["ihl_store"].clean_temporary(older_than_minutes * 60)
    click.echo(f"Removed {removed} leftover temporary upload file(s).")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve_command(host, port, workers):
    """Run the web application with gunicorn."""
    from ihl_docs.core.server import run_gunicorn

    app = current_app._get_current_object()
    run_gunicorn(app.extensions["ihl_app_factory"], host, port, workers, address_file(app),
                 notices=lambda: [line for notice in app.extensions["ihl_start_notices"]
                                  for line in notice(app)])


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at the same time.")
@click.option("--interrupted-after", default=None, type=click.IntRange(1), metavar="MINUTES",
              help="A dossier build or verification silent this long (no heartbeat) is "
                   "declared failed (interrupted): its worker has stopped. Default: "
                   "IHL_JOB_SILENT_MINUTES (5).")
@with_appcontext
def worker_command(threads, interrupted_after):
    """Run the background job worker (dossier builds, verifications) on the queue IHL_QUEUE_URL
    names. At start, and then every minute, it declares failed the jobs whose worker died.

    Ctrl-C (SIGINT) lets the running jobs finish; SIGTERM stops at once."""
    import logging
    from datetime import timedelta

    from ihl_docs.core.jobs import run_worker

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("huey", "ihl_docs"):  # the jobs' comings and goings, not the libraries' chatter
        logging.getLogger(name).setLevel(logging.INFO)
    if interrupted_after is not None:
        current_app.config["JOB_SILENT_MINUTES"] = interrupted_after
    run_worker(current_app, threads=threads,
               interrupted_after=timedelta(minutes=current_app.config["JOB_SILENT_MINUTES"]))
