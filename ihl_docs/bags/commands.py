"""`ihl export CASE_REF -o DIR` and `ihl import DIR`: a case as a BagIt bag, out and back in."""

import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ihl_docs.core.errors import DomainError


@click.command("export")
@click.argument("case_ref")
@click.option("-o", "--output", required=True, type=click.Path(), metavar="DIR",
              help="A new or empty folder.")
@with_appcontext
def export_command(case_ref, output):
    """Write case CASE_REF as a BagIt bag in DIR: its records, evidence files, custody chains,
    qualifications, dossiers, audit entries, a signed checkpoint and the offline verifier.

    The export is recorded (an `exported` custody event per item, an audit entry) only once the
    bag is written and validated. Check it with: python3 DIR/data/verify_audit.py DIR/data"""
    from ihl_docs.bags.export import discard_bag, export_case
    from ihl_docs.core.audit.journal import Witnesses
    from ihl_docs.core.audit.signing import load_or_create_key
    from ihl_docs.core.case_records import record_parts
    from ihl_docs.core.db import get_session

    session = get_session()
    try:
        key = load_or_create_key(current_app.config["SIGNING_KEY"])
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"The signing key could not be used ({exc}).") from None
    target = Path(output)
    result = None
    try:
        result = export_case(session, current_app.extensions["ihl_store"], case_ref, target,
                             key=key, witnesses=Witnesses.from_config(current_app.config),
                             parts=record_parts(current_app))
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None
    except BaseException:
        session.rollback()
        if result is not None:  # written, but the commit failed: the bag must not stay
            discard_bag(target, result.created_folder)
        raise
    click.echo(f"Exported case {result.case_ref} to {output}: {result.items} evidence item(s), "
               f"{result.files} file(s), {result.audit_entries} audit entries of the case.")
    click.echo(f"Signed checkpoint at seq {result.checkpoint_seq}; public key "
               f"{result.public_key}")
    click.echo(f"Check it with: python3 {target / 'data' / 'verify_audit.py'} {target / 'data'}")


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--public-key", metavar="HEX",
              help="Accept only a bag signed with this Ed25519 key (the one `ihl export` printed "
                   "on the exporting instance). Required, unless --trust-bag-key.")
@click.option("--trust-bag-key", is_flag=True,
              help="Accept the key the bag names itself (anyone can sign a bag with a key of "
                   "their own): a warning is printed and the import's audit entry says so.")
@with_appcontext
def import_command(directory, public_key, trust_bag_key):
    """Import a case bag written by `ihl export` into this instance.

    The whole bag is validated first (only regular files; every file re-hashed against its
    manifest; its audit entries, checkpoint and seal checked against the key given; every ref
    of the bag's case) and if anything differs, nothing is changed. Members are matched by
    e-mail; those with no account here are named and left out, never created. The authors the
    bag names are not attributed to accounts here: each record's import audit entry names them
    (`at_source`)."""
    from sqlmodel import select

    from ihl_docs.bags.importing import check_importable, import_case, open_bag, store_files
    from ihl_docs.core.case_records import record_parts
    from ihl_docs.core.db import get_session, open_session
    from ihl_docs.core.models import User

    if not public_key and not trust_bag_key:
        raise click.UsageError("Give the exporting instance's public key: --public-key HEX (the "
                               "key `ihl export` printed there), or --trust-bag-key to accept "
                               "the key the bag names itself.")
    if public_key and not re.fullmatch(r"[0-9a-fA-F]{64}", public_key.strip()):
        raise click.BadParameter("give the 32-byte Ed25519 key as 64 hex digits.",
                                 param_hint="--public-key")
    engine, store = current_app.extensions["ihl_engine"], current_app.extensions["ihl_store"]
    session = get_session()
    try:
        bag = open_bag(directory, parts=record_parts(current_app), public_key=public_key,
                       trust_bag_key=trust_bag_key)
        if not public_key:
            click.echo(f"Warning: trusting the key the bag names ({bag.public_key}); anyone "
                       "can sign a bag with a key of their own. Compare it with the key the "
                       "exporting instance printed.", err=True)
        with open_session(engine, write=False) as reading:  # refuse early, before storing files
            check_importable(reading, bag)
        store_files(store, bag)
        result = import_case(session, store, bag)
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None
    except BaseException:
        session.rollback()
        raise
    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
    click.echo(f"Imported case {result.case_ref}: {counts or 'no records'}; "
               f"{result.audit_entries} audit entries.")
    click.echo(f"Source checkpoint: seq {bag.checkpoint.get('seq')}, public key "
               f"{bag.public_key}")
    if result.unknown_members:
        click.echo("Members with no account here (not added): "
                   + ", ".join(result.unknown_members))
    if result.withheld_members:
        click.echo("Members not added, the bag's own key being trusted (add them with the case's "
                   "members page if they should have access): "
                   + ", ".join(result.withheld_members))
    if result.authors:
        known = {email for (email,) in get_session().execute(
            select(User.email).where(User.email.in_(result.authors)))}
        click.echo("Authors named in the bag, recorded as at source in the import's audit "
                   "entries, not attributed to accounts here: "
                   + ", ".join(a if a in known else f"{a} (no account here)"
                               for a in result.authors))
