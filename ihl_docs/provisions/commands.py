"""`ihl provisions import`: load an edited or extended legal catalogue, treaty participation and
the ICC's jurisdiction facts; `ihl treaties import`: the legal team's own participation rows."""

import click
from flask.cli import AppGroup

from ihl_docs.core.commands import commit_or_fail


@click.group("provisions", cls=AppGroup)
def provisions_group():
    """Manage the legal catalogue."""


def _taken(values: tuple[str, ...]):
    """--take-new / --take-catalogue values: "all", or the set named."""
    return "all" if "all" in values else set(values)


@provisions_group.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--instruments", "instruments_file", type=click.Path(exists=True, dir_okay=False),
              help="An instruments JSON file (same format as the bundled one) to load first.")
@click.option("--states-parties", "states_parties_file",
              type=click.Path(exists=True, dir_okay=False),
              help="A treaty participation file (JSON Lines, as states_parties.jsonl).")
@click.option("--icc", "icc_file", type=click.Path(exists=True, dir_okay=False),
              help="An ICC jurisdiction file (JSON, as icc_jurisdiction.json).")
@click.option("--bundled", is_flag=True,
              help="Load the four files bundled with this version of ihl_docs (to take a new "
                   "edition into a database made with an older one).")
@click.option("--take-new", "take_new", multiple=True, metavar="KEY|all",
              help="Replace a provision corrected in the application with the file's version "
                   "(repeatable; 'all' for every one).")
@click.option("--take-catalogue", "take_catalogue", multiple=True, metavar="STATE:INSTRUMENT|all",
              help="Replace a row the legal team entered or corrected with the file's "
                   "(e.g. UKR:Rome Statute, or a state code for all its rows, or an ICC key; "
                   "repeatable; 'all' for every one).")
def provisions_import(file, instruments_file, states_parties_file, icc_file, bundled, take_new,
                      take_catalogue):
    """Load an edited or extended provisions file (JSON Lines), upserting by key, and the
    treaty participation and ICC files given.

    Each file is checked whole first; a malformed file is refused with the line and field at
    fault, and nothing is loaded. Nothing is ever removed. A provision corrected in the
    application, and a participation row or ICC fact the legal team entered or corrected, is
    kept: what the file would change is printed, field by field.
    """
    from ihl_docs.provisions import catalogue, treaties

    if bundled:
        if file or instruments_file or states_parties_file or icc_file:
            raise click.UsageError("--bundled loads the bundled files; give no other file.")
        folder = catalogue.BUNDLED
        file, instruments_file = str(folder / "provisions.jsonl"), str(folder / "instruments.json")
        states_parties_file = str(folder / "states_parties.jsonl")
        icc_file = str(folder / "icc_jurisdiction.json")
    if not (file or instruments_file or states_parties_file or icc_file):
        raise click.UsageError("Give a provisions file, --instruments, --states-parties, --icc "
                               "or --bundled.")

    def load(session):
        instruments = []
        if instruments_file:
            instruments = catalogue.parse_instruments(_read_text(instruments_file), instruments_file)
        provisions = catalogue.parse_provisions(_read_text(file), file) if file else []
        report = catalogue.load(session, instruments, provisions, actor="ihl provisions import",
                                take_new=_taken(take_new))
        if states_parties_file or icc_file or any(i.parties for i in instruments):
            report.treaties = treaties.load_treaty_files(
                session, actor="ihl provisions import", instruments=instruments,
                states_parties=_read_text(states_parties_file) if states_parties_file else None,
                icc=_read_text(icc_file) if icc_file else None, take=_taken(take_catalogue),
                sources=(states_parties_file or "", icc_file or ""))
        return report

    report = commit_or_fail(load)
    for key in report.added:
        click.echo(f"added    {key}")
    for key in report.changed:
        click.echo(f"changed  {key}")
    for key, differences in sorted(report.kept.items()):
        click.echo(f"kept     {key} (corrected in the application; take the file's with "
                   f"--take-new {key})")
        for name, mine, theirs in differences:
            click.echo(f"    {name}: {_brief(mine)} → {_brief(theirs)}")
    click.echo(report.summary())
    if report.treaties is not None:
        for line in report.treaties.lines():
            click.echo(line)


def _brief(value) -> str:
    text = "(empty)" if value in (None, "", []) else str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text.") from None


@click.group("treaties", cls=AppGroup)
def treaties_group():
    """The legal team's treaty participation rows."""


@treaties_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "by", default="ihl treaties import", show_default=True, metavar="EMAIL",
              help="Who enters these rows (recorded with each row and in the audit log).")
def treaties_import(file, by):
    """Enter the legal team's participation rows from FILE (JSON Lines, the fields of
    states_parties.jsonl). Each row becomes a team row (kept over catalogue upgrades). The
    whole file is refused, nothing entered, if one line is wrong; the message names it."""
    from ihl_docs.core.errors import InvalidInput
    from ihl_docs.provisions import treaties

    def enter(session):
        records = treaties.parse_participation(_read_text(file), file)
        entered = 0
        for number, record in enumerate(records, start=1):
            fields = treaties.ParticipationFields.model_validate(
                record.model_dump(exclude={"instrument_short", "state"}))
            try:
                row = treaties.participation(session, record.instrument_short, record.state)
                before = None if row is None else (row.version, row.origin)
                row = treaties.enter_participation(session, record.instrument_short,
                                                   record.state, fields, actor=by)
            except InvalidInput as exc:
                raise InvalidInput(f"{file} row {number} ({record.instrument_short}, "
                                   f"{record.state}): {exc.message}", exc.fields) from None
            entered += before != (row.version, row.origin)
        return entered, len(records)

    entered, total = commit_or_fail(enter)
    click.echo(f"Entered {entered} team row(s) by {by}; {total - entered} unchanged.")
