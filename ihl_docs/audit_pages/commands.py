"""`ihl audit checkpoint` and `ihl audit export`: sign the chain head, write the log for
checking offline."""

import os
import shutil
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ihl_docs.core.errors import DomainError

EXPORT_ACTOR = "ihl audit export"
VERIFIER = Path(__file__).resolve().parents[1] / "core" / "audit" / "verify_audit.py"


@click.group("audit", cls=AppGroup)
def audit_group():
    """The audit log: signed checkpoints and the export for offline checking."""


def _sign_head():
    from ihl_docs.core.audit.checkpoints import sign_head
    from ihl_docs.core.audit.journal import Witnesses

    try:
        return sign_head(current_app.extensions["ihl_engine"], current_app.config["SIGNING_KEY"],
                         Witnesses.from_config(current_app.config))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"The signing key could not be used ({exc}).") from None


@audit_group.command("checkpoint")
@with_appcontext
def checkpoint_command():
    """Sign the audit chain head now (nothing to do if it is already signed)."""
    checkpoint = _sign_head()
    if checkpoint is None:
        click.echo("The chain head is already signed (or the log is empty).")
    else:
        click.echo(f"Signed checkpoint at seq {checkpoint.seq} (hash {checkpoint.hash}).")
        click.echo(f"Public key {checkpoint.public_key}")


@audit_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(), metavar="DIR",
              help="A new or empty folder.")
@with_appcontext
def export_command(output):
    """Write DIR/audit.jsonl, DIR/checkpoints.jsonl (after signing the head), DIR/export.json and
    DIR/verify_audit.py, which checks them with nothing but Python: python3 DIR/verify_audit.py DIR

    The export is itself recorded in the audit log. If the log does not verify, it is exported
    all the same (to be examined), no checkpoint is signed, and the exit status is 1."""
    from ihl_docs.core.audit.log import head, record
    from ihl_docs.core.commands import commit_or_fail
    from ihl_docs.core.db import open_session

    target = Path(output)
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise click.ClickException(f"{output} already exists and is not an empty folder; "
                                   "give a new or empty one.")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"Cannot create {output} ({exc.strerror or exc}).") from None

    def record_export(session):
        top = head(session)
        return record(session, actor=EXPORT_ACTOR, action="export", entity="audit_log",
                      entity_id=str(top.seq if top else 0),
                      after={"to": os.path.abspath(output)})

    commit_or_fail(record_export)
    try:
        _sign_head()
        finding = None
    except click.ClickException as exc:
        finding = exc.message
    with open_session(current_app.extensions["ihl_engine"], write=False) as session:
        entries, checkpoints = write_export(session, target)
    click.echo(f"Exported {entries} audit entries and {checkpoints} checkpoint(s) to {output}.")
    click.echo(f"Check it with: python3 {target / 'verify_audit.py'} {output}")
    if finding:
        click.echo(f"Error: {finding}", err=True)
        sys.exit(1)


def write_export(session, target: Path) -> tuple[int, int]:
    """Write audit.jsonl, checkpoints.jsonl, export.json (saying it is the full audit log) and
    the verifier; returns (entries, checkpoints) written."""
    from ihl_docs.core.audit.chain import canonical_json
    from ihl_docs.core.audit.checkpoints import checkpoint_document, list_checkpoints
    from ihl_docs.core.audit.log import iter_entries
    from ihl_docs.core.audit.verify_audit import EXPORT_FORMAT, EXPORT_KIND

    # Checkpoints first: entries appended meanwhile only lengthen the log past the last of them.
    checkpoints = [checkpoint_document(c) for c in list_checkpoints(session)]
    entries = 0
    with open(target / "audit.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for entry in iter_entries(session):
            f.write(canonical_json(entry) + "\n")
            entries += 1
    with open(target / "checkpoints.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for checkpoint in checkpoints:
            f.write(canonical_json(checkpoint) + "\n")
    # What the export is, so that a case seal dropped in beside it is not taken for its own.
    (target / "export.json").write_text(
        canonical_json({"format": EXPORT_FORMAT, "kind": EXPORT_KIND}) + "\n", encoding="utf-8")
    shutil.copyfile(VERIFIER, target / "verify_audit.py")
    os.chmod(target / "verify_audit.py", 0o755)
    return entries, len(checkpoints)
