"""The legal catalogue as files: instruments (JSON) and provisions (JSON Lines), validated whole
before anything is loaded, and upserted by key."""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlmodel import Session, select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import (
    Applicability,
    AuditEntry,
    IncidentType,
    Instrument,
    Provision,
    ProvisionElement,
    SuggestionRule,
)
from ihl_docs.core.versions import save_version

BUNDLED = Path(__file__).resolve().parent.parent / "data"
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"
SINCE_PATTERN = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
# Researched data leaves unknown texts null; they are kept as empty text.
Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else v)]


ELEMENT_KINDS = ("conduct", "circumstance", "consequence", "mental", "context", "attribution")
ElementKind = Literal["", "conduct", "circumstance", "consequence", "mental", "context",
                      "attribution"]
BINDS = ("states", "parties_to_conflict", "individuals")
Binds = Literal["", "states", "parties_to_conflict", "individuals"]


class ElementRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=100)
    text: str = Field(min_length=1, max_length=5000)
    # What the element is about; the first edition had none (kept as "").
    kind: Annotated[ElementKind, BeforeValidator(lambda v: "" if v is None else v)] = ""


class ProvisionRecord(BaseModel):
    """One line of provisions.jsonl."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=KEY_PATTERN)
    instrument_short: str = Field(min_length=1, max_length=100)
    instrument: Text = Field(default="", max_length=2000)
    article: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=300)
    summary: Text = Field(default="", max_length=20_000)
    applies_to: Applicability
    category: Text = Field(default="", max_length=60)
    elements: list[ElementRecord] = Field(default_factory=list, max_length=100)
    elements_source: Text = Field(default="", max_length=2000)
    related: list[str] = Field(default_factory=list, max_length=100)
    source_url: Text = Field(default="", max_length=500, pattern=r"^(https?://\S+)?$")
    verification: Text = Field(default="", max_length=40)
    notes: Text = Field(default="", max_length=20_000)
    binds: Annotated[Binds, BeforeValidator(lambda v: "" if v is None else v)] = ""
    jurisdiction_note: Text = Field(default="", max_length=20_000)
    inoperative: bool = False

    @field_validator("elements")
    @classmethod
    def _numbered_in_order(cls, elements):
        numbers = [e.number for e in elements]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("elements must be numbered 1, 2, 3 … without gaps")
        return elements


class PartyRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str = Field(pattern=r"^[A-Z]{3}$")
    status: str = Field(min_length=1, max_length=40)
    since: Optional[str] = None
    detail: Text = Field(default="", max_length=5000)
    confidence: Text = Field(default="", max_length=200)

    @field_validator("since")
    @classmethod
    def _since(cls, value):
        if value is not None and not SINCE_PATTERN.match(value):
            raise ValueError("since is a year (YYYY) or a date (YYYY-MM-DD)")
        if value and len(value) == 10:
            date.fromisoformat(value)
        return value


class InstrumentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instrument_short: str = Field(min_length=1, max_length=100)
    instrument: str = Field(min_length=1, max_length=2000)
    type: Text = Field(default="", max_length=200)
    adopted: Text = Field(default="", max_length=300)
    entry_into_force: Text = Field(default="", max_length=300)
    depositary: Text = Field(default="", max_length=200)
    notes: Text = Field(default="", max_length=20_000)
    parties: list[PartyRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_entry_per_state(self):
        states = [p.state for p in self.parties]
        if len(states) != len(set(states)):
            raise ValueError("parties: each state appears once")
        return self


class CatalogueFileError(InvalidInput):
    """A catalogue file that cannot be loaded; names the line and field at fault."""


def _problem(where: str, error: ValidationError) -> CatalogueFileError:
    first = error.errors()[0]
    field_name = ".".join(str(p) for p in first["loc"]) or "(record)"
    message = f"{where}, field {field_name}: {first['msg']}"
    return CatalogueFileError(message, {field_name: first["msg"]})


def json_lines(text: str, source: str):
    """(line number, "<source> line N", object) for each line of a JSON Lines file; a line that
    is not one JSON object raises CatalogueFileError naming it."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogueFileError(f"{where}: not valid JSON ({exc.msg})", {}) from None
        if not isinstance(raw, dict):
            raise CatalogueFileError(f"{where}: each line must be one JSON object", {})
        yield number, where, raw


def parse_provisions(text: str, source: str = "provisions file") -> list[ProvisionRecord]:
    """Every line validated; the first fault raises CatalogueFileError with its line and field."""
    records, seen = [], {}
    for number, where, raw in json_lines(text, source):
        try:
            record = ProvisionRecord.model_validate(raw)
        except ValidationError as exc:
            raise _problem(where, exc) from None
        if record.key in seen:
            raise CatalogueFileError(
                f"{where}, field key: {record.key} already appears on line {seen[record.key]}",
                {"key": "duplicate"})
        seen[record.key] = number
        records.append(record)
    if not records:
        raise CatalogueFileError(f"{source}: no provision in the file", {})
    return records


def parse_instruments(text: str, source: str = "instruments file") -> list[InstrumentRecord]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueFileError(f"{source} line {exc.lineno}: not valid JSON ({exc.msg})",
                                 {}) from None
    if not isinstance(raw, list):
        raise CatalogueFileError(f"{source}: the file must hold a JSON list of instruments", {})
    records = []
    for index, item in enumerate(raw):
        try:
            records.append(InstrumentRecord.model_validate(item))
        except ValidationError as exc:
            raise _problem(f"{source} entry {index + 1}", exc) from None
    return records


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    instruments_added: list[str] = field(default_factory=list)
    instruments_changed: list[str] = field(default_factory=list)
    # key -> [(field, the corrected value kept, the file's value)]
    kept: dict[str, list] = field(default_factory=dict)
    treaties: object = None  # treaties.TreatyReport, when treaty files were loaded

    def summary(self) -> str:
        kept = (f"; kept {len(self.kept)} provision(s) corrected in the application where the "
                f"file differs" if self.kept else "")
        return (f"{len(self.added)} provision(s) added, {len(self.changed)} changed, "
                f"{self.unchanged} unchanged{kept}; {len(self.instruments_added)} instrument(s) "
                f"added, {len(self.instruments_changed)} changed.")


def load(session: Session, instruments: list[InstrumentRecord],
         provisions: list[ProvisionRecord], *, actor: str, update_existing: bool = True,
         take_new: set[str] | str = frozenset()) -> LoadReport:
    """Upsert instruments and provisions by key. Nothing is removed. With update_existing=False
    (what `ihl init` does) provisions already present are left as they are. Otherwise a
    provision someone corrected in the application (an audit entry by a user) is kept, and what
    the file would change is reported, unless its key is in `take_new` (or `take_new` is
    "all")."""
    report = LoadReport()
    by_short = {i.short_name: i for i in session.exec(select(Instrument))}
    for record in instruments:
        _upsert_instrument(session, record, by_short, report, actor, update_existing)
    _check_references(session, provisions, by_short)
    corrected = corrected_provisions(session) if update_existing else set()
    for record in provisions:
        keep = record.key in corrected and not (take_new == "all" or record.key in take_new)
        _upsert_provision(session, record, by_short[record.instrument_short], report, actor,
                          update_existing, keep=keep)
    session.flush()
    return report


def corrected_provisions(session: Session) -> set[str]:
    """Keys of the provisions a user corrected in the application: those with an audit entry
    whose actor is a person (an e-mail), not a catalogue load (`ihl init`, `ihl provisions
    import`)."""
    return set(session.exec(select(AuditEntry.entity_id).where(
        AuditEntry.entity == "provision", AuditEntry.actor.contains("@")).distinct()))


def _check_references(session: Session, provisions: list[ProvisionRecord], by_short) -> None:
    known = set(session.exec(select(Provision.key))) | {p.key for p in provisions}
    for record in provisions:
        if record.instrument_short not in by_short:
            raise CatalogueFileError(
                f"provision {record.key}, field instrument_short: no instrument "
                f"{record.instrument_short!r} in the catalogue", {"instrument_short": "unknown"})
        missing = [k for k in record.related if k not in known]
        if missing:
            raise CatalogueFileError(
                f"provision {record.key}, field related: unknown key(s) {', '.join(missing)}",
                {"related": "unknown keys"})


def _instrument_values(record: InstrumentRecord) -> dict:
    return {"name": record.instrument, "type": record.type, "adopted": record.adopted,
            "entry_into_force": record.entry_into_force,
            "depositary": record.depositary, "notes": record.notes}


def _upsert_instrument(session, record, by_short, report, actor, update_existing) -> None:
    instrument = by_short.get(record.instrument_short)
    values = _instrument_values(record)
    if instrument is None:
        instrument = Instrument(short_name=record.instrument_short, **values)
        session.add(instrument)
        session.flush()
        by_short[instrument.short_name] = instrument
        report.instruments_added.append(instrument.short_name)
        before = None
    else:
        before = audit.snapshot(instrument)
        if not update_existing:
            return
        for name, value in values.items():
            setattr(instrument, name, value)
        session.add(instrument)
        session.flush()
    after = audit.snapshot(instrument)
    if before is not None and after == before:
        return
    if before is not None:
        report.instruments_changed.append(instrument.short_name)
    audit.record(session, actor=actor, action="create" if before is None else "update",
                 entity="instrument", entity_id=instrument.short_name, before=before, after=after)


PROVISION_FIELDS = ["article", "title", "summary", "applies_to", "category", "related",
                    "source_url", "verification", "elements_source", "notes", "binds",
                    "jurisdiction_note", "inoperative"]


def element_state(number: int, text: str, kind: str) -> dict:
    """An element as audit entries record it. The kind is written only when it is set, so that
    entries written before elements had kinds still agree with rows that have none."""
    state = {"number": number, "text": text}
    if kind:
        state["kind"] = kind
    return state


def provision_snapshot(session: Session, provision: Provision) -> dict:
    snap = audit.snapshot(provision)
    snap["elements"] = [element_state(e.number, e.text, e.kind)
                        for e in elements_of(session, provision)]
    return snap


def elements_of(session: Session, provision: Provision) -> list[ProvisionElement]:
    return list(session.exec(select(ProvisionElement)
                             .where(ProvisionElement.provision_id == provision.id)
                             .order_by(ProvisionElement.number)))


def _upsert_provision(session, record, instrument, report, actor, update_existing,
                      keep=False) -> None:
    provision = session.exec(select(Provision).where(Provision.key == record.key)).first()
    values = {name: getattr(record, name) for name in PROVISION_FIELDS}
    values["applies_to"] = record.applies_to.value
    values["instrument_id"] = instrument.id
    if provision is None:
        provision = Provision(key=record.key, **values)
        session.add(provision)
        session.flush()
        set_elements(session, provision, [(e.text, e.kind) for e in record.elements])
        report.added.append(record.key)
        audit.record(session, actor=actor, action="create", entity="provision",
                     entity_id=provision.key, after=provision_snapshot(session, provision))
        return
    if not update_existing:
        report.unchanged += 1
        return
    before = provision_snapshot(session, provision)
    if keep:
        differences = _provision_differences(before, values, record)
        if differences:
            report.kept[record.key] = differences
        else:
            report.unchanged += 1
        return
    for name, value in values.items():
        setattr(provision, name, value)
    set_elements(session, provision, [(e.text, e.kind) for e in record.elements])
    if not save_version(session, provision, before, lambda: provision_snapshot(session, provision),
                        actor=actor, entity="provision", entity_id=provision.key):
        report.unchanged += 1
        return
    report.changed.append(record.key)


def _provision_differences(before: dict, values: dict, record) -> list[tuple[str, object, object]]:
    """(field, value kept, the file's value) for each field where a corrected provision and the
    file differ."""
    found = [(name, before.get(name), value) for name, value in values.items()
             if name != "instrument_id" and before.get(name) != value]
    theirs = [element_state(e.number, e.text, e.kind) for e in record.elements]
    if before.get("elements") != theirs:
        found.append(("elements", before.get("elements"), theirs))
    return found


def set_elements(session: Session, provision: Provision,
                 elements: list[tuple[str, str]]) -> None:
    """Make the provision's elements exactly `elements` ((text, kind) each), numbered from 1,
    keeping rows by number."""
    existing = {e.number: e for e in elements_of(session, provision)}
    for number, (text, kind) in enumerate(elements, start=1):
        element = existing.pop(number, None) or ProvisionElement(provision_id=provision.id,
                                                                 number=number, text=text)
        element.text = text
        element.kind = kind or ""
        session.add(element)
    for element in existing.values():
        session.delete(element)
    session.flush()


class SuggestionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_type: Optional[IncidentType] = None
    weapon_keyword: Text = Field(default="", max_length=100)
    requires_civilian_objects: bool = False
    provision_key: str = Field(pattern=KEY_PATTERN)
    reason: Text = Field(default="", max_length=500)


def load_bundled(session: Session, *, actor: str, take_catalogue=frozenset()) -> LoadReport:
    """The researched catalogue shipped with the package; existing provisions are left as they
    are. Treaty participation and the ICC's jurisdiction facts are brought up to the bundled
    data, except rows the legal team entered or corrected (kept unless in `take_catalogue`).
    The suggestion mapping is loaded only into a database that has none yet."""
    from ihl_docs.provisions import treaties

    instruments = parse_instruments((BUNDLED / "instruments.json").read_text("utf-8"),
                                    "instruments.json")
    provisions = parse_provisions((BUNDLED / "provisions.jsonl").read_text("utf-8"),
                                  "provisions.jsonl")
    report = load(session, instruments, provisions, actor=actor, update_existing=False)
    report.treaties = treaties.load_treaty_files(
        session, actor=actor, instruments=instruments, take=take_catalogue,
        states_parties=(BUNDLED / "states_parties.jsonl").read_text("utf-8"),
        icc=(BUNDLED / "icc_jurisdiction.json").read_text("utf-8"))
    if session.exec(select(SuggestionRule.id).limit(1)).first() is None:
        rules = json.loads((BUNDLED / "suggestions.json").read_text("utf-8"))
        for raw in rules:
            record = SuggestionRecord.model_validate(raw)
            rule = SuggestionRule(**record.model_dump())
            session.add(rule)
            session.flush()
            audit.record(session, actor=actor, action="create", entity="suggestion_rule",
                         entity_id=str(rule.id), after=audit.snapshot(rule))
    return report


def bundled_catalogue_step(session: Session, options: dict) -> list[str]:
    """`ihl init`: load the bundled catalogue (new and changed provisions; none removed)."""
    report = load_bundled(session, actor=options["actor"])
    return [f"Legal catalogue: {report.summary()}", *report.treaties.lines()]
