"""`ihl dossier`: build a case's dossier now and write its PDF to a file."""

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ihl_docs.core.access import load_in_case
from ihl_docs.core.commands import commit_or_fail
from ihl_docs.core.models import Case
from ihl_docs.dossiers.audiences import AUDIENCES
from ihl_docs.dossiers.parts import dossier_parts

DOSSIER_PREPARED_BY = "ihl_docs (command line)"


@click.command("dossier")
@click.argument("case_ref")
@click.option("-o", "--output", "output", required=True, type=click.Path(), metavar="FILE",
              help="Where to write the PDF.")
@click.option("--audience", default="internal", show_default=True,
              metavar="|".join(AUDIENCES),
              help=" ".join(policy.note for policy in AUDIENCES.values()))
@click.option("--prepared-by", default=DOSSIER_PREPARED_BY, show_default=True,
              help="The name printed on the cover: name the person or team handing it over.")
@click.option("--incident", "incidents", multiple=True, metavar="REF",
              help="An incident the dossier covers (repeat for several). Left out: every "
                   "incident for internal, the approved ones for court and public.")
@with_appcontext
def dossier_command(case_ref, output, audience, prepared_by, incidents):
    """Build a dossier of CASE_REF now, store and record it like any other, write it to FILE.

    Prints the dossier's ref, the PDF's SHA-256, its page count and the case fingerprint."""
    from ihl_docs.dossiers import services

    _check_writable(output)
    case = commit_or_fail(lambda s: _case(s, case_ref))
    dossier = commit_or_fail(lambda s: services.request_dossier(
        s, case, audience=audience, prepared_by=prepared_by, actor=services.COMMAND_ACTOR,
        incidents=list(incidents) or None, through="the command line"))
    engine, store = current_app.extensions["ihl_engine"], current_app.extensions["ihl_store"]
    with click.progressbar(length=100, label=f"Building {dossier.ref}", file=sys.stderr,
                           show_eta=False) as bar:
        def advance(stage, percent):
            bar.label = f"{dossier.ref}: {stage}"
            bar.update(percent - bar.pos)

        result = services.run_dossier(engine, store, dossier.ref, services.cache_dir(current_app),
                                      observer=advance, parts=dossier_parts(current_app))
    if result is None or result.status != "done":
        raise click.ClickException(result.error if result else
                                   f"Dossier {dossier.ref} was not built.")
    _copy_out(store, result, output)
    click.echo(f"Dossier {result.ref} written to {output}")
    click.echo(f"sha256 {result.sha256}")
    click.echo(f"pages {result.page_count}")
    click.echo(f"case fingerprint {result.case_fingerprint}")


def _case(session, ref):
    return load_in_case(session, None, Case, ref)[0]


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
