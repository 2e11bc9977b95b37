"""A case's records as plain JSON-ready data and back, as each feature contributes its part.

A case export (`ihl export`, a BagIt bag) holds one record file per part: the case with its
parties and members, its incidents, its evidence, its qualifications, its dossiers, and whatever
a later feature registers. Records name each other by ref, provisions by key and people by
e-mail; never by database id. On import, the parts are restored in the order they were
registered, each creating its rows with an audit entry per record.

The authors a bag names (who created, linked, requested or added a record at the source) are
not attributed to accounts here, even one with the same e-mail: a bag's claim is not this
instance's record of who did what. Their columns stay empty, and each record's `import` audit
entry names them under `at_source`."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlmodel import Session, select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.dbtypes import UTCDateTime
from ihl_docs.core.models import Case, User


def row_fields(row, *skip: str) -> dict:
    """A row's columns as JSON-ready values, leaving out `skip` (ids and foreign keys)."""
    return {c.name: jsonable(getattr(row, c.name)) for c in row.__table__.columns
            if c.name not in skip}


def row_values(model, data: dict, *skip: str) -> dict:
    """The column values of `model` found in `data`, times parsed back; `skip` left out."""
    values = {}
    for column in model.__table__.columns:
        if column.name in skip or column.name not in data:
            continue
        value = data[column.name]
        if isinstance(column.type, UTCDateTime) and value is not None:
            value = datetime.fromisoformat(value)
        values[column.name] = value
    return values


class Collecting:
    """What the parts of one export share while they collect: the session, the case, and
    lookups each part may need (people by id, refs of the case's records by id)."""

    def __init__(self, session: Session, case: Case):
        self.session, self.case = session, case
        self._refs: dict = {}

    @cached_property
    def emails(self) -> dict[int, str]:
        return dict(self.session.exec(select(User.id, User.email)).all())

    def rows(self, model) -> list:
        """The case's rows of `model` (one with `case_id` and `ref`), ordered by ref."""
        if model not in self._refs:
            self._refs[model] = list(self.session.exec(
                select(model).where(model.case_id == self.case.id).order_by(model.ref)))
        return self._refs[model]

    def refs(self, model) -> dict[int, str]:
        """id -> ref of the case's rows of `model`."""
        return {row.id: row.ref for row in self.rows(model)}


@dataclass
class Restoring:
    """One import in progress: the session, the people here by e-mail, the rows created so far
    by ref (for the parts restored later), the audit entries and counts it has made."""

    session: Session
    actor: str
    source: dict  # where the records came from: the bag, its key and checkpoint
    vouched: bool = True  # signed with a key the importer gave; else members are not added
    case: Case | None = None
    created: dict = field(default_factory=dict)  # model -> ref -> row
    counts: dict = field(default_factory=dict)
    unknown_members: list[str] = field(default_factory=list)
    withheld_members: list[str] = field(default_factory=list)  # not added: bag not vouched for
    authors: set[str] = field(default_factory=set)  # every author the bag names
    audit_entries: int = 0
    _pending: list[str] = field(default_factory=list)  # authors of the record being restored

    @cached_property
    def users(self) -> dict[str, User]:
        return {u.email: u for u in self.session.exec(select(User))}

    def author_id(self, email: str | None) -> None:
        """None: the author a bag names for a record is not attributed to an account here (see
        the module's docstring); the name goes into the record's audit entry (`record`)."""
        if isinstance(email, str) and email:
            self._pending.append(email)
            self.authors.add(email)

    def record(self, entity: str, entity_id: str, after: dict) -> None:
        """The `import` audit entry of one record, naming the authors given for it at the
        source (by author_id since the last entry) under `at_source`."""
        if self._pending:
            after = {**after, "at_source": sorted(set(self._pending))}
            self._pending.clear()
        audit.record(self.session, actor=self.actor, action="import", entity=entity,
                     entity_id=entity_id, case_ref=self.case.ref, after=after)
        self.audit_entries += 1

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def keep(self, model, row) -> None:
        """Remember a created row by its ref, for the parts that refer to it."""
        self.created.setdefault(model, {})[row.ref] = row

    def made(self, model) -> dict:
        """ref -> row of the rows of `model` created so far."""
        return self.created.get(model, {})


def _no_files(records) -> Iterable[str]:
    return ()


def _nothing_lacking(session: Session, records) -> str | None:
    return None


def _no_refs(records) -> Iterable[tuple[str, str]]:
    return ()


@dataclass(frozen=True)
class RecordPart:
    """One record file of a case export, as a feature contributes it."""

    name: str  # the record file, e.g. "incidents.json"
    collect: Callable[[Collecting], object]  # the case's records, JSON-ready
    restore: Callable[[Restoring, object], None]  # create them on import (flush, audit)
    files: Callable[[object], Iterable[str]] = _no_files  # the stored files they name
    refusal: Callable[[Session, object], str | None] = _nothing_lacking  # why not importable
    # (kind, ref) of every record ref the records hold or cite: "incident", "evidence" or
    # "dossier"; an import holds each to the bag's case (CASE-I001, CASE-E0001, CASE-D001)
    refs: Callable[[object], Iterable[tuple[str, str]]] = _no_refs


def register_record_part(app, part: RecordPart) -> None:
    """Add a record file to case exports (restored after those registered before it)."""
    app.extensions.setdefault("ihl_record_parts", []).append(part)


def record_parts(app) -> list[RecordPart]:
    return list(app.extensions.get("ihl_record_parts", []))
