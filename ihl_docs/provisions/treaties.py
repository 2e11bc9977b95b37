"""Treaty participation (each state's status under each instrument) and the ICC's jurisdiction
facts (art. 12(3) declarations, Security Council referrals, withdrawals): as the bundled
catalogue gives them, and as the legal team corrects them.

A missing row means "unknown", never "not a party": nothing here creates a row the data does not
hold. A row the team entered or corrected (origin "team") is never overwritten by a catalogue
load; the load reports where the catalogue differs, and the team's row is replaced only when the
operator takes the catalogue's (`--take-catalogue`). Every change is audited, with the full row:
entity "instrument_party" ("<instrument_short>:<STATE>") and "icc_basis" (its key).

The applicability check reads these rows through `participation` and `icc_facts`.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal, Optional

import pycountry
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import AuditEntry, IccBasis, Instrument, InstrumentParty
from ihl_docs.core.versions import lock_at_version, save_version
from ihl_docs.provisions.catalogue import CatalogueFileError, InstrumentRecord, json_lines

TEAM, CATALOGUE = "team", "catalogue"
STATUSES = ("party", "not_party", "signatory", "withdrawn", "unknown")
STATUS_WORDS = {"party": "party", "not_party": "not a party", "signatory": "signatory only",
                "withdrawn": "withdrawn", "unknown": "unknown"}
CONFIDENCES = ("high", "medium", "low")
ICC_KINDS = ("declaration", "referral", "withdrawal")
GENEVA = ("GC I", "GC II", "GC III", "GC IV")
COMMON_ART_3 = "GC I-IV (common Art. 3)"
ROME = "Rome Statute"
# states_parties.jsonl names some instruments otherwise than the catalogue does.
FILE_NAMES = {"APMBC": "APMBC (Ottawa)", "CCW APII": "CCW Amended Protocol II",
              "CCW PIII": "CCW Protocol III",
              "Mercenaries Convention": "UN Mercenaries Convention"}
# The columns a participation row holds besides its instrument, state and bookkeeping.
PARTICIPATION_FIELDS = ("status", "deposit", "action", "signature", "in_force_for_state",
                        "withdrawal_effective", "source", "confidence", "detail", "since")
ICC_FIELDS = ("kind", "state", "situation", "reference", "lodged_on", "period_from",
              "period_to", "in_effect", "status", "source", "confidence", "notes")
DAY_OR_YEAR = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else v)]


def known_state(code: str) -> bool:
    return pycountry.countries.get(alpha_3=code) is not None


def state_name(code: str) -> str:
    country = pycountry.countries.get(alpha_3=code)
    return country.name if country else code


def _day_or_year(value: Optional[str]) -> Optional[str]:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not DAY_OR_YEAR.match(value):
        raise ValueError("write a year (YYYY) or a date (YYYY-MM-DD)")
    if len(value) == 10:
        date.fromisoformat(value)
    return value


DayOrYear = Annotated[Optional[str], BeforeValidator(_day_or_year)]


class ParticipationFields(BaseModel):
    """A state's participation in one instrument, as the team enters it (page, API)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["party", "not_party", "signatory", "withdrawn", "unknown"]
    deposit: DayOrYear = None
    action: Text = Field(default="", max_length=40)
    signature: DayOrYear = None
    in_force_for_state: Optional[date] = None
    withdrawal_effective: Optional[date] = None
    source: Text = Field(default="", max_length=5000)
    confidence: Literal["high", "medium", "low"]
    notes: Text = Field(default="", max_length=20_000)

    @model_validator(mode="after")
    def _withdrawal_after_entry_into_force(self):
        if (self.withdrawal_effective and self.in_force_for_state
                and self.withdrawal_effective < self.in_force_for_state):
            raise ValueError("withdrawal_effective: the withdrawal cannot take effect before the "
                             "instrument entered into force for the state")
        return self


class ParticipationRecord(ParticipationFields):
    """One line of states_parties.jsonl (and of a file for `ihl treaties import`)."""

    instrument_short: str = Field(min_length=1, max_length=100)
    state: str = Field(pattern=r"^[A-Z]{3}$")


def values_of(data: ParticipationFields) -> dict:
    """The row's columns for these fields; `since` kept filled (the date in force, else the
    year of deposit) for what reads it."""
    since = (data.in_force_for_state.isoformat() if data.in_force_for_state
             else data.deposit[:4] if data.deposit else None)
    return {"status": data.status, "deposit": data.deposit, "action": data.action,
            "signature": data.signature, "in_force_for_state": data.in_force_for_state,
            "withdrawal_effective": data.withdrawal_effective, "source": data.source.strip(),
            "confidence": data.confidence, "detail": data.notes.strip(), "since": since}


def parse_participation(text: str, source: str = "states parties file"
                        ) -> list[ParticipationRecord]:
    """Every line validated (the catalogue's instrument names put for the file's); the first
    fault raises CatalogueFileError naming its line and field."""
    records, seen = [], {}
    for number, where, raw in json_lines(text, source):
        if isinstance(raw.get("instrument_short"), str):
            raw["instrument_short"] = FILE_NAMES.get(raw["instrument_short"],
                                                     raw["instrument_short"])
        try:
            record = ParticipationRecord.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or "(record)"
            raise CatalogueFileError(f"{where}, field {name}: {first['msg']}",
                                     {name: first["msg"]}) from None
        if not known_state(record.state):
            raise CatalogueFileError(f"{where}, field state: {record.state} is no ISO 3166 "
                                     f"alpha-3 country code", {"state": "unknown"})
        pair = (record.instrument_short, record.state)
        if pair in seen:
            raise CatalogueFileError(f"{where}: {pair[0]} / {pair[1]} already appears on line "
                                     f"{seen[pair]}", {"state": "duplicate"})
        seen[pair] = number
        records.append(record)
    return records


# --- what the catalogue says -----------------------------------------------------------------

def catalogue_participation(records: list[ParticipationRecord],
                            instruments: list[InstrumentRecord] = ()) -> dict:
    """(instrument_short, state) -> the row's values, from the states-parties file; common
    Article 3 derived from GC I–IV; instruments.json's `parties` only where the file has no row
    for the pair."""
    wanted = {(r.instrument_short, r.state): values_of(r) for r in records}
    wanted.update(_common_article_3(records, wanted))
    for instrument in instruments:
        for party in instrument.parties:
            pair = (instrument.instrument_short, party.state)
            if pair not in wanted:
                wanted[pair] = _edition_party(party)
    return wanted


def _common_article_3(records, wanted) -> dict:
    """A state party to any of the four Geneva Conventions is bound by common Article 3: its row
    is derived from the earliest of its GC I–IV rows in force (the file's own common Article 3
    row, if any, is kept)."""
    derived = {}
    by_state: dict[str, list] = {}
    for record in records:
        if record.instrument_short in GENEVA:
            by_state.setdefault(record.state, []).append(record)
    for state, rows in by_state.items():
        if (COMMON_ART_3, state) in wanted:
            continue
        bound = [r for r in rows if r.status == "party"] or rows
        chosen = min(bound, key=lambda r: (r.in_force_for_state or date.max, r.deposit or "9999",
                                           r.instrument_short))
        values = values_of(chosen)
        values["detail"] = (f"Derived from the {chosen.instrument_short} row: common Article 3 "
                            f"binds a state party to any of the four Geneva Conventions. "
                            f"{values['detail']}").strip()
        derived[(COMMON_ART_3, state)] = values
    return derived


EDITION_STATUS = {"party": "party", "not party": "not_party", "not_party": "not_party",
                  "signatory": "signatory", "withdrawn": "withdrawn"}


def _edition_party(party) -> dict:
    """A status line of instruments.json (first-edition style) as a row: statuses the
    normalised list does not have ("unverified", "n/a") become unknown, the original kept in
    the notes."""
    status = EDITION_STATUS.get(party.status.strip().lower(), "unknown")
    full_date = party.since if party.since and len(party.since) == 10 else None
    year = party.since if party.since and len(party.since) == 4 else None
    note = f"instruments.json: status “{party.status}”"
    if party.confidence:
        note += f", confidence “{party.confidence}”"
    return {"status": status, "deposit": year, "action": "", "signature": None,
            "in_force_for_state": date.fromisoformat(full_date) if full_date else None,
            "withdrawal_effective": None, "source": "instruments.json (bundled catalogue)",
            "confidence": "low", "detail": f"{party.detail} ({note}.)".strip(),
            "since": party.since}


def catalogue_icc(text: str, source: str = "ICC jurisdiction file") -> dict:
    """key -> IccBasis values, from icc_jurisdiction.json."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueFileError(f"{source} line {exc.lineno}: not valid JSON ({exc.msg})",
                                 {}) from None
    facts = {}
    try:
        for item in raw.get("art_12_3_declarations", []):
            facts[icc_key("declaration", item["state"], item["lodged"])] = _icc_values(
                "declaration", item["state"], lodged_on=item["lodged"],
                period_from=item.get("covers_from"), period_to=item.get("covers_to"),
                in_effect=bool(item.get("legal_effect", True)),
                status="with legal effect" if item.get("legal_effect", True)
                else "without legal effect", item=item,
                notes=_with_confirmations(item))
        for item in raw.get("security_council_referrals", []):
            facts[icc_key("referral", item["state"], item["adopted"])] = _icc_values(
                "referral", item["state"], lodged_on=item["adopted"],
                period_from=item.get("jurisdiction_from"), period_to=None, in_effect=True,
                status="referred", item=item, situation=item.get("situation") or "",
                reference=item.get("resolution") or "")
        for item in raw.get("withdrawals", []):
            status = item.get("status") or ""
            facts[icc_key("withdrawal", item["state"], _withdrawal_day(item))] = _icc_values(
                "withdrawal", item["state"], lodged_on=item.get("notified"),
                period_from=item.get("effective"), period_to=None,
                in_effect=status.startswith("effective"), status=status[:40], item=item,
                notes=(item.get("notes") or "") if len(status) <= 40
                else f"Status: {status}. {item.get('notes') or ''}".strip())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CatalogueFileError(f"{source}: an entry lacks a field or has a wrong value "
                                 f"({exc})", {}) from None
    return facts


def icc_key(kind: str, state: str, day) -> str:
    """"declaration:CIV:2003-04-18": what the fact is, whose, and when it was lodged."""
    return f"{kind}:{state}:{day.isoformat() if isinstance(day, date) else day}"


def _withdrawal_day(item) -> str:
    """The notification's date; for a withdrawal only announced, the announcement's date or
    "unconfirmed"."""
    if item.get("notified"):
        return item["notified"]
    found = re.search(r"\d{4}-\d{2}-\d{2}", item.get("status") or "")
    return found.group(0) if found else "unconfirmed"


def _with_confirmations(item) -> str:
    notes = item.get("notes") or ""
    for confirmation in item.get("confirmations") or []:
        notes += (f" Confirmed on {confirmation.get('date')} by {confirmation.get('by')} "
                  f"(confidence {confirmation.get('confidence')}).")
    return notes.strip()


def _day(value) -> Optional[date]:
    return date.fromisoformat(value) if value else None


def _icc_values(kind, state, *, lodged_on, period_from, period_to, in_effect, status, item,
                situation="", reference="", notes=None) -> dict:
    return {"kind": kind, "state": state, "situation": situation, "reference": reference,
            "lodged_on": _day(lodged_on), "period_from": _day(period_from),
            "period_to": _day(period_to), "in_effect": in_effect, "status": status,
            "source": item.get("source") or "", "confidence": item.get("confidence") or "",
            "notes": item.get("notes") or "" if notes is None else notes}


# --- loading: catalogue rows upserted, team rows kept ----------------------------------------

@dataclass
class TreatyReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    recorded: int = 0  # rows that had no entry of their own yet, now recorded as found
    icc_added: int = 0
    icc_changed: int = 0
    icc_unchanged: int = 0
    # "<instrument>:<STATE>" or an ICC key -> [(field, the team's value, the catalogue's value)]
    kept: dict[str, list] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"Treaty participation: {self.added} row(s) added, {self.changed} changed, "
                 f"{self.unchanged} unchanged"
                 + (f", {self.recorded} recorded in the audit log as found" if self.recorded
                    else "") + "; ICC jurisdiction facts: "
                 f"{self.icc_added} added, {self.icc_changed} changed, {self.icc_unchanged} "
                 "unchanged."]
        if self.kept:
            lines.append(f"Kept {len(self.kept)} team correction(s) where the catalogue differs "
                         "(to take the catalogue's: ihl provisions import --bundled "
                         "--take-catalogue STATE:INSTRUMENT, or all):")
            for label, differences in sorted(self.kept.items()):
                lines.append(f"  {label}")
                lines += [f"    {name}: {shown(mine)} → {shown(theirs)}"
                          for name, mine, theirs in differences]
        lines += [f"Took the catalogue's row for {label}." for label in self.taken]
        return lines


def shown(value) -> str:
    if value is None or value == "":
        return "(empty)"
    return value.isoformat() if isinstance(value, date) else str(value)


def _taken(take, state: str, *names: str) -> bool:
    """Whether the operator takes the catalogue's version: "all", the state's code, or the row
    by one of its names ("UKR:Rome Statute", "Rome Statute:UKR", an ICC key)."""
    return take == "all" or state in take or any(name in take for name in names)


def _lay_over(session: Session, row, values: dict, actor: str, report: TreatyReport, label: str,
              taken: bool) -> tuple[str, dict | None]:
    """Lay the catalogue's values over a stored row: ("kept", None) for a team row not taken
    (its differences reported), ("unchanged", None), or ("changed", the row's state before)."""
    differences = [(n, getattr(row, n), v) for n, v in values.items() if getattr(row, n) != v]
    if row.origin == TEAM:
        if not taken:
            if differences:
                report.kept[label] = differences
            return "kept", None
        report.taken.append(label)
    elif not differences:
        return "unchanged", None
    before = audit.snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.origin, row.entered_by, row.entered_at = CATALOGUE, actor, None
    row.version += 1
    session.add(row)
    return "changed", before


def load_participation(session: Session, wanted: dict, *, actor: str, report: TreatyReport,
                       take=frozenset()) -> None:
    """Upsert the catalogue's rows in bulk (one read of the table, one flush, one append of the
    audit entries). A team row is kept unless taken; a row the database holds without an entry
    of its own (written before participation was audited apart) is recorded as found."""
    instruments = {i.short_name: i for i in session.exec(select(Instrument))}
    unknown = sorted({short for short, _ in wanted if short not in instruments})
    if unknown:
        raise CatalogueFileError(f"states parties: no instrument {', '.join(unknown)} in the "
                                 "catalogue", {"instrument_short": "unknown"})
    short_of = {i.id: name for name, i in instruments.items()}
    rows = {(short_of[r.instrument_id], r.state): r for r in session.exec(select(InstrumentParty))}
    logged = set(session.exec(select(AuditEntry.entity_id).where(
        AuditEntry.entity == "instrument_party").distinct()))
    changes, created, touched = [], [], set()
    for (short, state), values in sorted(wanted.items()):
        label = f"{short}:{state}"
        row = rows.get((short, state))
        if row is None:
            row = InstrumentParty(instrument_id=instruments[short].id, state=state,
                                  origin=CATALOGUE, entered_by=actor, entered_at=None,
                                  version=1, **values)
            created.append((label, row))
            continue
        outcome, before = _lay_over(session, row, values, actor, report, label,
                                    _taken(take, state, label, f"{state}:{short}"))
        if outcome == "unchanged":
            report.unchanged += 1
        if outcome != "changed":
            continue
        touched.add(label)
        report.changed += 1
        changes.append({"action": "update", "entity": "instrument_party", "entity_id": label,
                        "before": before, "row": row})
    session.add_all([row for _, row in created])
    session.flush()
    report.added += len(created)
    for label, row in created:
        changes.append({"action": "create", "entity": "instrument_party", "entity_id": label,
                        "row": row})
    for (short, state), row in sorted(rows.items()):
        label = f"{short}:{state}"
        if label not in logged and label not in touched:
            report.recorded += 1
            changes.append({"action": "create", "entity": "instrument_party",
                            "entity_id": label, "row": row})
    for change in changes:
        change["after"] = audit.snapshot(change.pop("row"))
    audit.record_many(session, changes, actor=actor)


def load_icc(session: Session, wanted: dict, *, actor: str, report: TreatyReport,
             take=frozenset()) -> None:
    """Upsert the catalogue's ICC facts by key, as load_participation does its rows."""
    rows = {r.key: r for r in session.exec(select(IccBasis))}
    changes, created = [], []
    for key, values in sorted(wanted.items()):
        row = rows.get(key)
        if row is None:
            row = IccBasis(key=key, origin=CATALOGUE, entered_by=actor, entered_at=None,
                           version=1, **values)
            created.append(row)
            continue
        outcome, before = _lay_over(session, row, values, actor, report, key,
                                    _taken(take, values["state"], key))
        if outcome == "unchanged":
            report.icc_unchanged += 1
        if outcome != "changed":
            continue
        report.icc_changed += 1
        changes.append({"action": "update", "entity": "icc_basis", "entity_id": key,
                        "before": before, "row": row})
    session.add_all(created)
    session.flush()
    report.icc_added += len(created)
    changes += [{"action": "create", "entity": "icc_basis", "entity_id": row.key, "row": row}
                for row in created]
    for change in changes:
        change["after"] = audit.snapshot(change.pop("row"))
    audit.record_many(session, changes, actor=actor)


# --- the team's corrections ------------------------------------------------------------------

def _refuse(name: str, message: str):
    raise InvalidInput(message, {name: message})


def instrument_named(session: Session, short: str) -> Instrument:
    short = FILE_NAMES.get(short, short)
    instrument = session.exec(select(Instrument).where(Instrument.short_name == short)).first()
    if instrument is None:
        _refuse("instrument", f"There is no instrument {short!r} in the catalogue.")
    return instrument


def check_state(code: str) -> str:
    if not (isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code) and known_state(code)):
        _refuse("state", f"{code!r} is not a country code: give the ISO 3166 alpha-3 code, "
                         "e.g. UKR or SDN.")
    return code


def _not_in_future(name: str, value, today: date, what: str) -> None:
    day = value if isinstance(value, date) else (
        date.fromisoformat(value) if value and len(value) == 10 else None)
    if day is not None and day > today:
        _refuse(name, f"The {what} ({day.isoformat()}) is in the future.")
    if isinstance(value, str) and len(value) == 4 and int(value) > today.year:
        _refuse(name, f"The {what} ({value}) is in the future.")


def enter_participation(session: Session, instrument_short: str, state: str,
                        data: ParticipationFields, *, actor: str,
                        expected_version: int | None = None,
                        today: date | None = None) -> InstrumentParty:
    """Add or correct a state's participation in an instrument as the legal team: origin
    "team", who entered it and when, version bumped, audited. A row changed since
    `expected_version` is refused (StaleVersion); `expected_version` 0 means "adding a row
    that did not exist"."""
    today = today or utcnow().date()
    instrument = instrument_named(session, instrument_short)
    check_state(state)
    _not_in_future("deposit", data.deposit, today, "deposit")
    _not_in_future("signature", data.signature, today, "signature")
    _not_in_future("in_force_for_state", data.in_force_for_state, today, "date in force")
    _not_in_future("withdrawal_effective", data.withdrawal_effective, today,
                   "withdrawal's effective date")
    label = f"{instrument.short_name}:{state}"
    values = values_of(data)
    row = participation(session, instrument, state)
    if row is None:
        if expected_version:
            _refuse("version", f"There is no row for {label} at version {expected_version}.")
        row = InstrumentParty(instrument_id=instrument.id, state=state, origin=TEAM,
                              entered_by=actor, entered_at=utcnow(), version=1, **values)
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="instrument_party",
                     entity_id=label, after=audit.snapshot(row))
        return row
    lock_at_version(session, row, expected_version, entity="instrument_party", entity_id=label,
                    what=f"{state_name(state)}'s participation in {instrument.short_name}",
                    message="{what} was changed by someone else since you opened it (your "
                            "version {mine}, now {now}). Nothing was saved.")
    if row.origin == TEAM and all(getattr(row, n) == v for n, v in values.items()):
        return row
    before = audit.snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.origin, row.entered_by, row.entered_at = TEAM, actor, utcnow()
    save_version(session, row, before, lambda: audit.snapshot(row), actor=actor,
                 entity="instrument_party", entity_id=label)
    return row


class IccFactFields(BaseModel):
    """An ICC jurisdiction fact as the team enters it."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["declaration", "referral", "withdrawal"]
    state: str = Field(min_length=3, max_length=3)
    situation: Text = Field(default="", max_length=300)
    reference: Text = Field(default="", max_length=300)
    lodged_on: date
    period_from: Optional[date] = None
    period_to: Optional[date] = None
    in_effect: bool = True
    status: Text = Field(default="", max_length=40)
    source: Text = Field(default="", max_length=5000)
    confidence: Literal["high", "medium", "low"]
    notes: Text = Field(default="", max_length=20_000)

    @model_validator(mode="after")
    def _period_in_order(self):
        if self.period_from and self.period_to and self.period_to < self.period_from:
            raise ValueError("period_to: the period ends before it begins")
        return self


def enter_icc_fact(session: Session, data: IccFactFields, *, actor: str, key: str | None = None,
                   expected_version: int | None = None, today: date | None = None) -> IccBasis:
    """Add an ICC jurisdiction fact (key None) or correct one, as the legal team. Dates in the
    future are refused, except the end of the period a declaration covers (a declaration may
    accept jurisdiction ahead); a declaration whose period overlaps another of the same state
    in effect is refused."""
    today = today or utcnow().date()
    check_state(data.state)
    _not_in_future("lodged_on", data.lodged_on, today, "date it was lodged")
    _not_in_future("period_from", data.period_from, today, "start of the period")
    if data.kind != "declaration":
        _not_in_future("period_to", data.period_to, today, "end of the period")
    row = None
    if key is not None:
        row = session.exec(select(IccBasis).where(IccBasis.key == key)).first()
        if row is None:
            _refuse("key", f"There is no ICC jurisdiction fact {key}.")
        if (row.kind, row.state) != (data.kind, data.state):
            _refuse("kind", "The kind and the state of a recorded fact cannot change; add a new "
                            "one instead.")
    if data.kind == "declaration" and data.in_effect:
        _no_overlap(session, data, row)
    values = data.model_dump()
    if row is None:
        key = icc_key(data.kind, data.state, data.lodged_on)
        if session.exec(select(IccBasis.id).where(IccBasis.key == key)).first() is not None:
            _refuse("lodged_on", f"{key} is already recorded: correct that one instead.")
        row = IccBasis(key=key, origin=TEAM, entered_by=actor, entered_at=utcnow(), version=1,
                       **values)
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="icc_basis", entity_id=key,
                     after=audit.snapshot(row))
        return row
    lock_at_version(session, row, expected_version, entity="icc_basis", entity_id=row.key,
                    what=row.key)
    before = audit.snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.origin, row.entered_by, row.entered_at = TEAM, actor, utcnow()
    save_version(session, row, before, lambda: audit.snapshot(row), actor=actor,
                 entity="icc_basis", entity_id=row.key)
    return row


def _no_overlap(session: Session, data: IccFactFields, itself: IccBasis | None) -> None:
    start, end = data.period_from or date.min, data.period_to or date.max
    for other in icc_facts(session, data.state):
        if other.kind != "declaration" or not other.in_effect or other is itself:
            continue
        if start <= (other.period_to or date.max) and (other.period_from or date.min) <= end:
            _refuse("period_from", f"The period overlaps the declaration {other.key} "
                                   f"({shown(other.period_from)} to {shown(other.period_to)}).")


# --- reading ---------------------------------------------------------------------------------

def participation(session: Session, instrument, state: str) -> InstrumentParty | None:
    """The row for (instrument, state), or None: unknown. `instrument` is an Instrument or its
    short name."""
    if isinstance(instrument, str):
        instrument = session.exec(select(Instrument).where(
            Instrument.short_name == FILE_NAMES.get(instrument, instrument))).first()
        if instrument is None:
            return None
    return session.exec(select(InstrumentParty).where(
        InstrumentParty.instrument_id == instrument.id, InstrumentParty.state == state)).first()


def icc_facts(session: Session, state: str) -> list[IccBasis]:
    """The state's ICC jurisdiction facts, by kind and date lodged."""
    return list(session.exec(select(IccBasis).where(IccBasis.state == state)
                             .order_by(IccBasis.kind, IccBasis.lodged_on, IccBasis.key)))


def state_rows(session: Session, state: str) -> list[tuple[Instrument, InstrumentParty | None]]:
    """Every instrument of the catalogue with the state's row, or None where there is none."""
    rows = {r.instrument_id: r for r in session.exec(select(InstrumentParty).where(
        InstrumentParty.state == state))}
    return [(i, rows.get(i.id)) for i in session.exec(select(Instrument).order_by(Instrument.id))]


def states_summary(session: Session, *, state: str | None = None,
                   instrument: str | None = None) -> list[dict]:
    """Per state holding rows: its name and the count of rows per status (and of low-confidence
    and team rows), filtered by state code and instrument."""
    query = select(InstrumentParty.state, InstrumentParty.status, InstrumentParty.confidence,
                   InstrumentParty.origin)
    if instrument:
        query = query.join(Instrument, Instrument.id == InstrumentParty.instrument_id).where(
            Instrument.short_name == instrument)
    if state:
        query = query.where(InstrumentParty.state == state)
    summary: dict[str, dict] = {}
    for code, status, confidence, origin in session.exec(query):
        entry = summary.setdefault(code, {"state": code, "name": state_name(code), "rows": 0,
                                          "low": 0, "team": 0, **dict.fromkeys(STATUSES, 0)})
        entry["rows"] += 1
        entry[status if status in STATUSES else "unknown"] += 1
        entry["low"] += confidence == "low"
        entry["team"] += origin == TEAM
    return sorted(summary.values(), key=lambda e: e["name"])


def withdrawal_disagreements(session: Session) -> list[str]:
    """Where the Rome Statute rows and the ICC withdrawal facts disagree: a withdrawal in effect
    without a withdrawn row at the same date, or a withdrawn row without such a withdrawal."""
    rome = session.exec(select(Instrument).where(Instrument.short_name == ROME)).first()
    if rome is None:
        return []
    rows = {r.state: r for r in session.exec(select(InstrumentParty).where(
        InstrumentParty.instrument_id == rome.id))}
    withdrawals = {f.state: f for f in session.exec(select(IccBasis).where(
        IccBasis.kind == "withdrawal", IccBasis.in_effect))}
    found = []
    for code, fact in sorted(withdrawals.items()):
        row = rows.get(code)
        if row is None or row.status != "withdrawn" or row.withdrawal_effective != fact.period_from:
            found.append(f"{code}: ICC withdrawal {fact.key} effective {shown(fact.period_from)}, "
                         f"but the Rome Statute row says "
                         f"{'nothing' if row is None else row.status} "
                         f"{shown(row.withdrawal_effective) if row else ''}".strip())
    for code, row in sorted(rows.items()):
        if row.status == "withdrawn" and code not in withdrawals:
            found.append(f"{code}: the Rome Statute row says withdrawn, but no ICC withdrawal in "
                         "effect is recorded")
    return found


def load_treaty_files(session: Session, *, actor: str, instruments: list[InstrumentRecord] = (),
                      states_parties: str | None = None, icc: str | None = None,
                      take=frozenset(), sources: tuple[str, str] = ("states_parties.jsonl",
                                                                   "icc_jurisdiction.json")
                      ) -> TreatyReport:
    """Load a states-parties file (JSON Lines) and an ICC jurisdiction file (JSON), each if
    given; instruments.json's `parties` fill the pairs the states-parties file lacks."""
    report = TreatyReport()
    if states_parties is not None:
        records = parse_participation(states_parties, sources[0])
        load_participation(session, catalogue_participation(records, instruments), actor=actor,
                           report=report, take=take)
    elif any(i.parties for i in instruments):
        # Without a states-parties file, instruments.json's lines only fill pairs nobody holds.
        held = {(short, state) for short, state in session.exec(
            select(Instrument.short_name, InstrumentParty.state).join(
                InstrumentParty, InstrumentParty.instrument_id == Instrument.id))}
        wanted = {pair: values for pair, values in catalogue_participation([], instruments).items()
                  if pair not in held}
        load_participation(session, wanted, actor=actor, report=report, take=take)
    if icc is not None:
        load_icc(session, catalogue_icc(icc, sources[1]), actor=actor, report=report, take=take)
    return report
