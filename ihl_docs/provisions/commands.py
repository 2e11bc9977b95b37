"""`ihl provisions import`: load an edited or extended legal catalogue."""

import click
from flask.cli import AppGroup

from ihl_docs.core.commands import commit_or_fail


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

    report = commit_or_fail(load)
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
