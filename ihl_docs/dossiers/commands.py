"""`ihl dossier`: build a case's dossier now and write its PDF to a file."""

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ihl_docs.core.access import load_in_case
from ihl_docs.core.commands import commit_or_fail
from ihl_docs.core.errors import DomainError
from ihl_docs.core.models import Case
from ihl_docs.dossiers.audiences import AUDIENCES
from ihl_docs.dossiers.parts import dossier_parts
from ihl_docs.dossiers.services import served_file

DOSSIER_PREPARED_BY = "ihl_docs (command line)"


class DossierGroup(click.Group):
    """`ihl dossier CASE_REF -o FILE …` builds a dossier, as it always has; `ihl dossier verify
    FILE` and `ihl dossier public-key` are subcommands. A first argument that names no
    subcommand is the case ref of a build."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [BUILD, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "CASE_REF -o FILE [OPTIONS] | verify FILE "
                                                "[--public-key HEX] | public-key")


BUILD = "build"


@click.group("dossier", cls=DossierGroup)
def dossier_command():
    """Build a case's dossier (`ihl dossier CASE_REF -o FILE`), check a signed dossier file
    offline (`ihl dossier verify FILE`), or print the key dossiers are signed with."""


@dossier_command.command(BUILD)
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
@click.option("--full-image", "full_images", multiple=True, metavar="REF",
              help="An image item (JPEG, PNG) to annex at full resolution (repeat for several).")
@with_appcontext
def build_command(case_ref, output, audience, prepared_by, incidents, full_images):
    """Build a dossier of CASE_REF now, store and record it like any other, write it to FILE.

    Prints the dossier's ref, the PDF's SHA-256, its page count and the case fingerprint."""
    from ihl_docs.dossiers import services

    _check_writable(output)
    try:
        services.check_signing(current_app)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    case = commit_or_fail(lambda s: _case(s, case_ref))
    dossier = commit_or_fail(lambda s: services.request_dossier(
        s, case, audience=audience, prepared_by=prepared_by, actor=services.COMMAND_ACTOR,
        incidents=list(incidents) or None, through="the command line",
        full_images=list(full_images) or None))
    engine, store = current_app.extensions["ihl_engine"], current_app.extensions["ihl_store"]
    with click.progressbar(length=100, label=f"Building {dossier.ref}", file=sys.stderr,
                           show_eta=False) as bar:
        def advance(stage, percent):
            bar.label = f"{dossier.ref}: {stage}"
            bar.update(percent - bar.pos)

        result = services.run_dossier(engine, store, dossier.ref, services.cache_dir(current_app),
                                      observer=advance, parts=dossier_parts(current_app),
                                      signer=services.signer_for(current_app))
    if result is None or result.status != "done":
        raise click.ClickException(result.error if result else
                                   f"Dossier {dossier.ref} was not built.")
    _copy_out(store, result, output)
    click.echo(f"Dossier {result.ref} written to {output}")
    click.echo(f"sha256 {result.sha256}")
    click.echo(f"pages {result.page_count}")
    click.echo(f"case fingerprint {result.case_fingerprint}")
    if result.signed_sha256:
        click.echo(f"signed sha256 {result.signed_sha256} (the file written: the PDF of the "
                   f"sha256 above followed by the signature, at audit seq "
                   f"{result.audit_seq_at_signing})")


@dossier_command.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--public-key", metavar="HEX",
              help="The signing instance's public key (`ihl dossier public-key` there, or its "
                   "audit log page). Without it, the file is checked against the key it "
                   "carries.")
@click.option("--tsa-ca", type=click.Path(dir_okay=False), metavar="PEM",
              help="Certificates (PEM) the timestamp authority must chain to; without it, the "
                   "timestamp is checked against the signature only.")
def verify_command(file, public_key, tsa_ca):
    """Check a signed dossier FILE offline, without the instance: its signature, timestamp,
    case fingerprint, manifest, unsigned revision and audit position, one line each.

    Exit status 0 if every check passes, 1 if one fails, 2 if the file cannot be read."""
    from ihl_docs.dossiers.signature import Unreadable, verify_signed

    if public_key is not None:
        key = public_key.strip().lower()
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise click.UsageError("--public-key takes the 64 hex digits of an Ed25519 public "
                                   "key.")
    roots = None
    if tsa_ca is not None:
        from ihl_docs.core.audit.timestamps import trusted_certificates

        try:
            roots = trusted_certificates(tsa_ca)
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"--tsa-ca: {tsa_ca} holds no readable certificate "
                                   f"({exc}).") from None
    try:
        data = Path(file).read_bytes()
        checks = verify_signed(data, public_key, roots)
    except OSError as exc:
        click.echo(f"Error: cannot read {file} ({exc.strerror or exc}).", err=True)
        sys.exit(2)
    except Unreadable as exc:
        click.echo(f"Error: cannot read {file}: {exc}.", err=True)
        sys.exit(2)
    for check in checks:
        click.echo(check.line())
    failed = [c.name for c in checks if not c.ok]
    if failed:
        click.echo(f"FAILED: {', '.join(failed)}")
        sys.exit(1)
    click.echo("OK: every check passed")


@dossier_command.command("public-key")
@with_appcontext
def public_key_command():
    """Print the public key (hex) this instance signs dossiers with: give it to whoever checks
    a dossier with `ihl dossier verify FILE --public-key HEX`."""
    from ihl_docs.core.audit.signing import existing_public_key
    from ihl_docs.dossiers.signature import check_signing_key

    path = current_app.config["SIGNING_KEY"]
    try:
        check_signing_key(path)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    key = existing_public_key(path)
    if key is None:
        raise click.ClickException("This instance has no signing key yet: it is made when the "
                                   "first dossier or checkpoint is signed.")
    click.echo(key)


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
        with os.fdopen(fd, "wb") as out, store.open(served_file(dossier)[0]) as pdf:
            shutil.copyfileobj(pdf, out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(
            f"Dossier {dossier.ref} was built and stored, but {path} could not be written "
            f"({exc.strerror or exc}).") from None
