"""The `ihl` command: a Flask CLI group bound to create_app."""

import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import select

from ihl_docs.core.db import get_session
from ihl_docs.core.errors import DomainError, NotFound
from ihl_docs.core.models import Case, Role

DEFAULT_ADMIN_EMAIL = "admin@example.org"


@click.group(cls=FlaskGroup, create_app=lambda: _create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def cli():
    """ihl_docs: documentation of suspected violations of international humanitarian law."""


def _create_app():
    from ihl_docs import create_app

    return create_app()


def init_app(app) -> None:
    """Register the commands on the application, where `ihl` (and test runners) find them."""
    from ihl_docs.audit_pages.commands import audit_group
    from ihl_docs.bags.commands import export_command, import_command
    from ihl_docs.demo.cases import demo_command

    for command in (init_command, users_group, tokens_group, serve_command, verify_command,
                    gc_command, provisions_group, worker_command, dossier_command,
                    export_command, import_command):
        app.cli.add_command(command)
    app.cli.add_command(demo_command)
    app.cli.add_command(audit_group)


def _commit_or_fail(action):
    """Run `action(session)` and commit; a refused operation becomes one clear line, exit 1."""
    session = get_session()
    try:
        result = action(session)
        session.commit()
        return result
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None


@click.command("init")
@click.option("--admin-email", default=DEFAULT_ADMIN_EMAIL, show_default=True,
              help="The first administrator's e-mail, used only if there is no account yet.")
@with_appcontext
def init_command(admin_email):
    """Create or upgrade the schema; on a database with no account, create an administrator."""
    from ihl_docs.auth import services as auth
    from ihl_docs.provisions import catalogue
    from ihl_docs.core.schema import upgrade

    before, after = upgrade(current_app.extensions["ihl_engine"])
    if before == after:
        click.echo(f"Schema is up to date (revision {after}).")
    else:
        click.echo(f"Schema upgraded from {before or 'nothing'} to revision {after}.")

    report = _commit_or_fail(lambda s: catalogue.load_bundled(s, actor="ihl init"))
    click.echo(f"Legal catalogue: {report.summary()}")
    password = _commit_or_fail(
        lambda s: auth.create_first_admin(s, admin_email, actor="ihl init"))
    if password:
        click.echo(f"Created the administrator {admin_email}.")
        click.echo(f"One-time password (change it at first log-in): {password}")


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
    user = _commit_or_fail(
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

    token = _commit_or_fail(lambda s: auth.create_token(s, email, name=name,
                                                        actor="ihl tokens create"))
    click.echo(f"API token for {email.strip().lower()} (shown once):")
    click.echo(token)


@click.group("provisions", cls=AppGroup)
def provisions_group():
    """Manage the legal catalogue."""


@provisions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--instruments", "instruments_file", type=click.Path(exists=True, dir_okay=False),
              help="An instruments JSON file (same format as the bundled one) to load first.")
def provisions_import(file, instruments_file):
    """Load an edited or extended provisions file (JSON Lines), upserting by key.

    The whole file is checked first; a malformed file is refused with the line and field at
    fault, and nothing from it is loaded. No provision is ever removed.
    """
    from ihl_docs.provisions import catalogue

    def load(session):
        instruments = []
        if instruments_file:
            instruments = catalogue.parse_instruments(_read_text(instruments_file), instruments_file)
        provisions = catalogue.parse_provisions(_read_text(file), file)
        return catalogue.load(session, instruments, provisions, actor="ihl provisions import")

    report = _commit_or_fail(load)
    for key in report.added:
        click.echo(f"added    {key}")
    for key in report.changed:
        click.echo(f"changed  {key}")
    click.echo(report.summary())


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text.") from None


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
def serve_command(host, port, workers):
    """Run the web application with gunicorn."""
    from ihl_docs.core.server import run_gunicorn

    run_gunicorn(host, port, workers)


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def verify_command(as_json):
    """Re-hash every stored file, hold every custody event against its audit entry, recompute
    the audit chain and check its signed checkpoints; print each problem; exit 1 if any."""
    from ihl_docs.core.db import open_snapshot
    from ihl_docs.verification import instance_public_key, verify_all

    with open_snapshot(current_app.extensions["ihl_engine"]) as session:
        report = verify_all(session, current_app.extensions["ihl_store"],
                            public_key=instance_public_key(current_app.config["SIGNING_KEY"]))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for problem in report["problems"]:
            click.echo(problem)
        click.echo(f"Checked {report['files']} stored files, {report['custody_events']} custody "
                   f"events and {report['audit_entries']} audit entries: "
                   + ("intact." if report["ok"] else f"{len(report['problems'])} problem(s)."))
    sys.exit(0 if report["ok"] else 1)


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


DOSSIER_PREPARED_BY = "ihl_docs (command line)"


@click.command("dossier")
@click.argument("case_ref")
@click.option("-o", "--output", "output", required=True, type=click.Path(), metavar="FILE",
              help="Where to write the PDF.")
@click.option("--audience", default="internal", show_default=True,
              metavar="internal|court|public",
              help="Internal: everything. Court: confidential items described, not shown. "
                   "Public: only public items.")
@click.option("--prepared-by", default=DOSSIER_PREPARED_BY, show_default=True,
              help="The name printed on the cover: name the person or team handing it over.")
@with_appcontext
def dossier_command(case_ref, output, audience, prepared_by):
    """Build a dossier of CASE_REF now, store and record it like any other, write it to FILE.

    Prints the dossier's ref, the PDF's SHA-256, its page count and the case fingerprint."""
    from ihl_docs.dossiers import services
    from ihl_docs.core.jobs import dossier_cache_dir

    _check_writable(output)
    case = _commit_or_fail(lambda s: _case(s, case_ref))
    dossier = _commit_or_fail(lambda s: services.request_dossier(
        s, case, audience=audience, prepared_by=prepared_by, actor=services.COMMAND_ACTOR))
    engine, store = current_app.extensions["ihl_engine"], current_app.extensions["ihl_store"]
    with click.progressbar(length=100, label=f"Building {dossier.ref}", file=sys.stderr,
                           show_eta=False) as bar:
        def advance(stage, percent):
            bar.label = f"{dossier.ref}: {stage}"
            bar.update(percent - bar.pos)

        result = services.run_dossier(engine, store, dossier.ref, dossier_cache_dir(current_app),
                                      observer=advance)
    if result is None or result.status != "done":
        raise click.ClickException(result.error if result else
                                   f"Dossier {dossier.ref} was not built.")
    _copy_out(store, result, output)
    click.echo(f"Dossier {result.ref} written to {output}")
    click.echo(f"sha256 {result.sha256}")
    click.echo(f"pages {result.page_count}")
    click.echo(f"case fingerprint {result.case_fingerprint}")


def _case(session, ref):
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise NotFound(f"No case {ref}.")
    return case


def _check_writable(path: str) -> None:
    """Refuse at once an output the PDF could not be written to, before anything is built."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise click.ClickException(f"{path} is a directory; give a file name for the PDF.")
    if not os.path.isdir(folder):
        raise click.ClickException(f"Cannot write {path}: there is no folder {folder}.")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise click.ClickException(f"Cannot write {path}: permission denied.")


def _copy_out(store, dossier, path: str) -> None:
    """Copy the stored PDF to `path` through a temporary file, so `path` is whole or untouched."""
    import shutil
    import tempfile

    folder, tmp = os.path.dirname(os.path.abspath(path)), None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ihl-dossier-")
        with os.fdopen(fd, "wb") as out, store.open(dossier.sha256) as pdf:
            shutil.copyfileobj(pdf, out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(
            f"Dossier {dossier.ref} was built and stored, but {path} could not be written "
            f"({exc.strerror or exc}).") from None


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
