"""`ihl verify`: everything the verification checks, from the command line."""

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def verify_command(as_json):
    """Re-hash every stored file, replay the audit log and hold every record against it,
    recompute the audit chain and check its signed checkpoints; print each problem; exit 1 if
    any."""
    from ihl_docs.core.db import open_snapshot
    from ihl_docs.core.file_modes import mode_warnings
    from ihl_docs.verification import instance_public_key, verify_all

    with open_snapshot(current_app.extensions["ihl_engine"]) as session:
        report = verify_all(session, current_app.extensions["ihl_store"],
                            public_key=instance_public_key(current_app.config["SIGNING_KEY"]))
    report["warnings"] = mode_warnings(current_app)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for problem in report["problems"]:
            click.echo(problem)
        for warning in report["warnings"]:
            click.echo(f"warning: {warning}")
        click.echo(f"Checked {report['files']} stored files, {report['records']} records "
                   f"({report['custody_events']} custody events) and {report['audit_entries']} "
                   "audit entries: "
                   + ("intact." if report["ok"] else f"{len(report['problems'])} problem(s)."))
    sys.exit(0 if report["ok"] else 1)
