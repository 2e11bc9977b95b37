"""The records as a projection of the audit log: replay the log, hold every row against it.

Every audited kind of record registers a `Projection`: the audit entity its entries name, and how
to read its rows as they are now, in the shape its entries record them. Verification replays the
log — each entry's `after` laid over the record's state before it, field by field — and compares
the result with every row: a field that differs from the entry that last recorded it, a row that
no entry created, a record the log holds that the database no longer does, and a stored value
that cannot even be read. Someone who changes a row in the database, without the application,
changes it without an entry: the replay names the record, the field and the entry.

The rows are read column by column as the database gives them, each turned into its Python value
by the column's own type in a guarded step (`stored_rows`): a damaged value is a finding, never
a crash of the check.
"""

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from ihl_docs.core.audit.log import snapshot_of
from ihl_docs.core.models import AuditEntry

REMOVED = object()  # a record whose last entry recorded its removal
_cursor_numbers = itertools.count(1)


@dataclass
class Row:
    """One record as it is stored now."""

    entity_id: str   # as its audit entries name it
    state: dict      # in the shape its audit entries record it
    unreadable: dict = field(default_factory=dict)  # field -> the stored text that did not read
    # False for a row that may exist without an entry (a finding nobody acknowledged yet): its
    # entries, if any, are still compared.
    needs_entry: bool = True


@dataclass(frozen=True)
class Projection:
    """How one audited kind of record is held against the log."""

    entity: str      # the audit entries' entity, e.g. "incident"
    noun: str        # how a finding names the kind, e.g. "incident", "case member"
    rows: Callable[[Session, object], Iterable[Row]]  # (session, case or None) -> its rows now
    # Fields the application changes without an entry, by design (a job's progress bar, a
    # case's ref counters): never compared. Each is listed, with why, in the README.
    unaudited: frozenset = frozenset()
    in_cases: bool = True  # False: the kind belongs to no case (users, the legal catalogue)
    kind: str = "record"   # what a finding about it concerns (see models.FindingKind)
    # The tables whose rows its state holds (its own first): a case's parties are part of the
    # case's state, a qualification's element findings of the qualification's.
    tables: tuple[str, ...] = ()
    label_of: Callable[[str], str] = str    # entity_id -> how a message names the record
    subject_of: Callable[[str], str] = str  # entity_id -> the finding's subject (a ref)


@dataclass(frozen=True)
class Difference:
    kind: str
    subject: str
    message: str


def register_projection(app, projection: Projection) -> None:
    """Hold this kind of record against the audit log in every verification."""
    app.extensions.setdefault("ihl_projections", []).append(projection)


def projections(app) -> list[Projection]:
    return list(app.extensions.get("ihl_projections", []))


# --- reading stored rows without trusting them -----------------------------------------------

def stored_rows(session: Session, model, *where, order_by=None) -> Iterator[tuple[dict, dict]]:
    """(values, unreadable) for each row of `model` matching `where`: values maps every column
    to its Python value; a value its column type cannot read (a timestamp edited into text that
    is no timestamp, JSON that does not parse) is None there and its stored text in
    `unreadable`."""
    table = model.__table__
    dialect = session.get_bind().dialect
    columns = list(table.columns)
    readers = [_reader(c, dialect) for c in columns]
    statement = select(*(sa.type_coerce(c, sa.String).label(c.name) for c in columns))
    for condition in where:
        statement = statement.where(condition)
    statement = statement.order_by(*(order_by if order_by is not None else table.primary_key))
    names = [c.name for c in columns]
    for raw in session.connection().execute(statement):
        values, unreadable = {}, {}
        for name, reader, value in zip(names, readers, raw):
            if value is None or reader is None:
                values[name] = value
                continue
            try:
                values[name] = reader(value)
            except (ValueError, TypeError, OverflowError, AttributeError):
                values[name], unreadable[name] = None, str(value)[:80]
        yield values, unreadable


def names_by_id(session: Session, model, name: str = "ref", *where) -> dict:
    """id -> the value of column `name` (a ref, an e-mail, a key) of `model`'s rows matching
    `where`: two plain columns, read without the rest of each row, to name what rows refer to."""
    statement = select(model.id, getattr(model, name))
    for condition in where:
        statement = statement.where(condition)
    return dict(session.connection().execute(statement).all())


def _reader(column, dialect):
    """What the ORM does to the column's stored value, or None where the driver's value is
    taken as it is (PostgreSQL's drivers give numbers as numbers)."""
    try:
        return column.type.dialect_impl(dialect).result_processor(dialect, None)
    except TypeError:  # a processor that needs the driver's type code
        return None


def row_state(values: dict, *leave_out: str) -> dict:
    """The audited state of a row read by `stored_rows` (what `snapshot` records of it)."""
    return snapshot_of({k: v for k, v in values.items() if k not in leave_out})


def table_rows(session: Session, model, entity_id: Callable[[dict], str], *where,
               extra: Callable[[dict], dict] | None = None,
               leave_out: tuple[str, ...] = ()) -> Iterator[Row]:
    """The rows of `model` as `Row`s: state = snapshot, plus `extra(values)` where the entries
    record more than the row's own columns (a case's parties, an incident's party name)."""
    for values, unreadable in stored_rows(session, model, *where):
        state = row_state(values, *leave_out)
        if extra is not None:
            state.update(extra(values))
        yield Row(entity_id(values), state, unreadable)


# --- the replay ------------------------------------------------------------------------------

class Recorded:
    """A record's state as its entries record it: each field's value, and the seq of the entry
    that last recorded it."""

    __slots__ = ("values", "seqs")

    def __init__(self, values: dict, seqs: dict):
        self.values, self.seqs = values, seqs


def recorded_states(session: Session, entity: str, case_ref: str | None = None) -> dict:
    """entity_id -> `Recorded`, or (REMOVED, seq), from every entry of `entity` (of one case's,
    with `case_ref`) in seq order. An entry whose change does not parse is passed over: the chain
    check names its seq.

    Read on the driver's cursor; each entry's `after` is laid over the state whole (one dict
    update for the values, one for the seqs), not field by field."""
    c = AuditEntry.__table__.c
    statement = select(c.seq, c.entity_id, c.change).where(c.entity == entity).order_by(c.seq)
    if case_ref is not None:
        statement = statement.where(c.case_ref == case_ref)
    states: dict = {}
    loads, fromkeys = json.loads, dict.fromkeys
    for seq, entity_id, change in _driver_rows(session, statement):
        try:
            document = loads(change)
            after = document.get("after")
        except (ValueError, TypeError, AttributeError):
            continue
        if after is None and document.get("before") is not None:
            states[entity_id] = (REMOVED, seq)
            continue
        if not isinstance(after, dict):
            continue
        state = states.get(entity_id)
        if state is None or type(state) is tuple:
            states[entity_id] = Recorded(after, fromkeys(after, seq))
        else:
            state.values.update(after)
            state.seqs.update(fromkeys(after, seq))
    return states


def _driver_rows(session: Session, statement, batch: int = 1000):
    """The rows of `statement` as the database driver gives them, on the session's connection
    (in its transaction), without SQLAlchemy's result objects. On PostgreSQL through a cursor
    on the server, `batch` rows at a time: a log of millions of entries is never held whole."""
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.cursor(name=f"ihl_replay_{next(_cursor_numbers)}")
    else:
        cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def replay(session: Session, kinds: Iterable[Projection], case=None
           ) -> tuple[dict[str, int], list[Difference]]:
    """Hold every row of every kind against the log; ({entity: records compared}, differences).
    With `case`, only the case's records of the kinds that belong to cases, against the case's
    entries."""
    compared: dict[str, int] = {}
    differences: list[Difference] = []
    for kind in kinds:
        if case is not None and not kind.in_cases:
            continue
        states = recorded_states(session, kind.entity, case.ref if case is not None else None)
        compared.setdefault(kind.entity, 0)
        for row in kind.rows(session, case):
            compared[kind.entity] += 1
            differences += _compare(kind, row, states.pop(row.entity_id, None))
        for entity_id, state in states.items():
            if type(state) is tuple:  # removed, and gone: as recorded
                continue
            seq = min(state.seqs.values()) if state.seqs else 0
            differences.append(Difference(kind.kind, kind.subject_of(entity_id), (
                f"{kind.noun} {kind.label_of(entity_id)}: the record that audit seq {seq} "
                f"created is no longer in the database")))
    return compared, differences


def _compare(kind: Projection, row: Row, recorded) -> list[Difference]:
    name, subject = f"{kind.noun} {kind.label_of(row.entity_id)}", kind.subject_of(row.entity_id)
    if recorded is None:
        if not row.needs_entry:
            return []
        return [Difference(kind.kind, subject, f"{name} has no audit entry: it was added outside the "
                                    "application")]
    if type(recorded) is tuple:
        return [Difference(kind.kind, subject, f"{name} is in the database, but audit seq {recorded[1]} "
                                    "recorded its removal")]
    found = []
    values, seqs = recorded.values, recorded.seqs
    for field_name, text in sorted(row.unreadable.items()):
        seq = seqs.get(field_name)
        where = f"; audit seq {seq} recorded its value" if seq else ""
        found.append(Difference(kind.kind, subject, f"{name}: the stored {field_name} cannot be read "
                                         f"({text!r}){where}"))
    for field_name, value in row.state.items():
        if field_name in kind.unaudited or field_name in row.unreadable:
            continue
        seq = seqs.get(field_name)
        if seq is not None and values[field_name] != value:
            found.append(Difference(kind.kind, subject, f"{name}: {field_name} differs from audit seq "
                                             f"{seq} (changed outside the application)"))
    return found


def recorded_state(session: Session, entity: str, entity_id: str) -> dict | None:
    """The state of one record as its audit entries record it (field -> value); None if the
    log has no entry of it or recorded its removal. What a download checks a row against."""
    statement = (select(AuditEntry.change)
                 .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
                 .order_by(AuditEntry.seq))
    state: dict | None = None
    for (change,) in session.connection().execute(statement):
        try:
            document = json.loads(change)
            after = document.get("after")
        except (ValueError, TypeError, AttributeError):
            continue
        if after is None and document.get("before") is not None:
            state = None
        elif isinstance(after, dict):
            state = {**(state or {}), **after}
    return state


def differs_from_log(session: Session, entity: str, entity_id: str, fields: dict) -> list[str]:
    """Which of `fields` (name -> the value stored now) differ from what the record's audit
    entries recorded: every one, if the log has no entry of the record. Checked before a file is
    served, so that a row pointed at another stored file is refused, not served as matching."""
    state = recorded_state(session, entity, entity_id)
    if state is None:
        return list(fields)
    return [name for name, value in fields.items() if name in state and state[name] != value]
