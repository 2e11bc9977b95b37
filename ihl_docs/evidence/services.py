"""Evidence items, their files, links to incidents and their chain of custody."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from ihl_docs.core import localtime
from ihl_docs.core.access import can_edit_case
from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.replay import differs_from_log
from ihl_docs.core.case_records import row_fields
from ihl_docs.core.db import ROW_LOCK
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import (
    Conflict,
    CustodyRuleViolation,
    EvidenceIntegrityError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
)
from ihl_docs.core.models import (
    Case,
    CustodyAction,
    CustodyEvent,
    CustodyEventCreate,
    Evidence,
    EvidenceCreate,
    EvidenceDerivative,
    EvidenceKind,
    EvidenceRead,
    Incident,
    IncidentEvidence,
    User,
)
from ihl_docs.core.storage import EvidenceStore, IncomingFile
from ihl_docs.evidence import custody_times, metadata
from ihl_docs.evidence.projection import derivative_order

# What a person may record; `collected`/`received` come with the upload, and `accessed` and
# `exported` are written by the system when bytes are read or exported.
RECORDABLE_ACTIONS = [CustodyAction.transferred, CustodyAction.received, CustodyAction.sealed,
                      CustodyAction.stored, CustodyAction.copied, CustodyAction.analysed,
                      CustodyAction.released]
THUMBNAIL = "thumbnail"
MAX_FILENAME = 255


def display_filename(name: str | None) -> str:
    """The original file name, for display only: no path, no control characters, bounded."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and len(ext) <= 16 else ""
        name = name[: MAX_FILENAME - len(ext) - 2] + "…" + ("." + ext if ext else "")
    return name


def register_evidence(session: Session, case: Case, data: EvidenceCreate,
                      incoming: IncomingFile | None, *, original_filename: str = "",
                      actor: User, store: EvidenceStore, max_bytes: int,
                      incident: Incident | None = None, relevance: str = "") -> Evidence:
    """Record an item: keep its file (if any) in the store, then its row, custody and audit."""
    if not can_edit_case(session, actor, case):
        raise Forbidden("Your role does not allow adding evidence to this case.")
    if incident is not None and incident.case_id != case.id:
        raise InvalidInput("That incident belongs to another case.", {"incident": "another case"})
    is_physical = data.kind == EvidenceKind.physical_item
    if is_physical and incoming is not None and incoming.size > 0:
        message = "A physical item has no file; record it without one, or choose another kind."
        raise InvalidInput(message, {"file": message})
    if not is_physical:
        _check_file(incoming, max_bytes)
        existing = session.exec(select(Evidence.ref).where(
            Evidence.case_id == case.id, Evidence.sha256 == incoming.sha256)).first()
        if existing:
            raise Conflict(f"This file is already in the case as {existing}.",
                           {"file": f"already recorded as {existing}"})
    _check_times(data)

    evidence = Evidence(**data.model_dump(), case_id=case.id, created_by_id=actor.id, ref="")
    if not is_physical:
        evidence.media_type = metadata.media_type_of(incoming.head())
        stored = store.keep(incoming)  # the file is in place before any row names it
        evidence.sha256, evidence.size = stored.sha256, stored.size
        evidence.original_filename = display_filename(original_filename)
    session.refresh(case, with_for_update=ROW_LOCK)
    case.evidence_counter += 1
    evidence.ref = f"{case.ref}-E{case.evidence_counter:04d}"
    if evidence.media_type.startswith("image/"):
        _read_image(session, evidence, store)
    session.add_all([case, evidence])
    _flush(session, evidence)
    if evidence.media_type.startswith("image/"):
        _add_thumbnail(session, evidence, store)
    audit.record(session, actor=actor.email, action="create", entity="evidence",
                 entity_id=evidence.ref, case_ref=case.ref,
                 after=evidence_snapshot(session, evidence))
    _record_intake(session, evidence, data, actor=actor, case=case)
    if incident is not None:
        link_evidence(session, incident, evidence, relevance, actor=actor)
    return evidence


def evidence_snapshot(session: Session, evidence: Evidence) -> dict:
    """The item as its audit entries record it: its columns and its derivatives (a thumbnail
    pointed at another stored file differs from the log)."""
    derivatives = session.exec(select(EvidenceDerivative)
                               .where(EvidenceDerivative.evidence_id == evidence.id))
    return {**audit.snapshot(evidence), "derivatives": sorted(
        (row_fields(d, "id", "evidence_id") for d in derivatives), key=derivative_order)}


def _check_file(incoming: IncomingFile | None, max_bytes: int) -> None:
    if incoming is None:
        raise InvalidInput("Choose a file to upload (or record a physical item).",
                           {"file": "Choose a file to upload."})
    if incoming.size == 0:
        raise InvalidInput("The file is empty; nothing was recorded.", {"file": "The file is empty."})
    if incoming.size > max_bytes:
        mib = max_bytes // (1024 * 1024)
        raise TooLarge(f"The file is larger than the {mib} MiB this instance accepts.",
                       {"file": f"larger than {mib} MiB"})


def _check_times(data: EvidenceCreate) -> None:
    now, problems = utcnow(), {}
    for name in ("published_at", "acquired_at"):
        value = getattr(data, name)
        if value is not None and value > now:
            problems[name] = "This cannot be in the future."
    if problems:
        raise InvalidInput("Some fields need correcting.", problems)


def _flush(session: Session, evidence: Evidence) -> None:
    try:
        session.flush()
    except IntegrityError:  # the same bytes registered in this case at the same moment
        raise Conflict("This file was just recorded in the case by someone else.",
                       {"file": "already recorded"}) from None


def _read_image(session: Session, evidence: Evidence, store: EvidenceStore) -> None:
    capture = metadata.read_capture_data(store.path_for(evidence.sha256))
    evidence.capture_time = capture.time
    evidence.capture_latitude, evidence.capture_longitude = capture.latitude, capture.longitude
    evidence.capture_device, evidence.metadata_note = capture.device, capture.note


def _add_thumbnail(session: Session, evidence: Evidence, store: EvidenceStore) -> None:
    thumb = metadata.make_thumbnail(store.path_for(evidence.sha256))
    if thumb is None:
        return
    stored = store.put_bytes(thumb)
    session.add(EvidenceDerivative(evidence_id=evidence.id, purpose=THUMBNAIL,
                                   sha256=stored.sha256, size=stored.size,
                                   media_type="image/jpeg"))


def _record_intake(session: Session, evidence: Evidence, data: EvidenceCreate, *, actor: User,
                   case: Case) -> None:
    """The first links of the chain: collected (by whom, when) and received (into the system).

    A file is received when it is uploaded: the upload is a step of its custody, hashed. A
    physical item is not handed to whoever records it, so once its collection is recorded no
    receipt is added: its custody goes on from the collector to where it was stored, as the
    events recorded afterwards say (a receipt dated today would end the chain "with the
    uploader" after it was stored in a locker in the past)."""
    now = utcnow()
    collected = bool(data.acquired_at or data.acquired_by)
    if collected:
        _append(session, evidence, CustodyEvent(
            action=CustodyAction.collected, occurred_at=data.acquired_at or now,
            custodian_to=data.acquired_by or actor.email, purpose=data.acquisition_method[:2000],
            actor=actor.email, evidence_id=evidence.id), case)
    if collected and data.kind == EvidenceKind.physical_item:
        return
    _append(session, evidence, CustodyEvent(
        action=CustodyAction.received, occurred_at=now,
        custodian_from=data.acquired_by if data.acquired_by else "",
        custodian_to=actor.email, purpose="Recorded in ihl_docs", actor=actor.email,
        evidence_id=evidence.id, sha256_observed=evidence.sha256,
        hash_matched=True if evidence.sha256 else None), case)


def _append(session: Session, evidence: Evidence, event: CustodyEvent, case: Case) -> CustodyEvent:
    session.add(event)
    session.flush()
    audit.record(session, actor=event.actor, action=f"custody_{event.action}",
                 entity="custody_event", entity_id=f"{evidence.ref}#{event.id}",
                 case_ref=case.ref, after=audit.snapshot(event))
    return event


def link_evidence(session: Session, incident: Incident, evidence: Evidence, relevance: str, *,
                  actor: User) -> IncidentEvidence:
    """Link an item to an incident of the same case, with a note on why it matters."""
    case = session.get(Case, incident.case_id)
    if not can_edit_case(session, actor, case):
        raise Forbidden("Your role does not allow linking evidence in this case.")
    if evidence.case_id != incident.case_id:
        message = f"{evidence.ref} belongs to another case than {incident.ref}."
        raise InvalidInput(message, {"evidence_ref": message})
    if session.get(IncidentEvidence, (incident.id, evidence.id)):
        raise Conflict(f"{evidence.ref} is already linked to {incident.ref}.",
                       {"evidence_ref": "already linked"})
    link = IncidentEvidence(incident_id=incident.id, evidence_id=evidence.id,
                            relevance=relevance.strip()[:20_000], linked_by_id=actor.id)
    session.add(link)
    session.flush()
    audit.record(session, actor=actor.email, action="link", entity="incident_evidence",
                 entity_id=f"{incident.ref}:{evidence.ref}", case_ref=case.ref,
                 after={"incident": incident.ref, "evidence": evidence.ref,
                        "relevance": link.relevance})
    return link


def record_custody(session: Session, evidence: Evidence, data: CustodyEventCreate, *,
                   actor: User, store: EvidenceStore) -> CustodyEvent:
    """Add a custody event; one that handles a file re-hashes it and records what it found."""
    case = session.get(Case, evidence.case_id)
    if not can_edit_case(session, actor, case):
        raise Forbidden("Your role does not allow recording custody in this case.")
    if data.action not in RECORDABLE_ACTIONS:
        message = (f"'{data.action}' is recorded by the system itself; choose one of: "
                   + ", ".join(a.value for a in RECORDABLE_ACTIONS) + ".")
        raise CustodyRuleViolation(message, {"action": message})
    _check_custody(session, evidence, data)
    event = CustodyEvent(**data.model_dump(), evidence_id=evidence.id, actor=actor.email)
    _observe(event, evidence, store)
    return _append(session, evidence, event, case)


def _check_custody(session: Session, evidence: Evidence, data: CustodyEventCreate) -> None:
    problems = {}
    if data.occurred_at > utcnow():
        problems["occurred_at"] = "A custody event cannot be in the future."
    collected = collection_time(session, evidence)
    if collected and data.occurred_at < collected:
        problems["occurred_at"] = (f"This is before the item was collected "
                                   f"({collected:%Y-%m-%d %H:%M} UTC).")
    if data.action == CustodyAction.transferred:
        for name in ("custodian_from", "custodian_to"):
            if not getattr(data, name).strip():
                problems[name] = "A transfer names who handed the item over and who took it."
    if data.action in (CustodyAction.received,) and not data.custodian_to.strip():
        problems["custodian_to"] = "Say who received the item."
    if problems:
        raise CustodyRuleViolation("The custody event was not recorded.", problems)


def collection_time(session: Session, evidence: Evidence) -> datetime | None:
    return session.exec(select(CustodyEvent.occurred_at).where(
        CustodyEvent.evidence_id == evidence.id).order_by(CustodyEvent.occurred_at)).first()


def _observe(event: CustodyEvent, evidence: Evidence, store: EvidenceStore) -> None:
    if not evidence.sha256:
        return
    found = store.hash_stored(evidence.sha256)
    event.sha256_observed = found[0] if found else None
    event.hash_matched = bool(found) and found[0] == evidence.sha256


def open_original(session: Session, evidence: Evidence, *, actor: User, store: EvidenceStore):
    """Open the original bytes for download, recording an `accessed` event (re-hashed)."""
    if not evidence.sha256:
        raise NotFound(f"{evidence.ref} is a physical item; it has no file.")
    changed = differs_from_log(session, "evidence", evidence.ref,
                               {"sha256": evidence.sha256, "case_id": evidence.case_id})
    if changed:
        raise EvidenceIntegrityError(
            f"The record of {evidence.ref} differs from its audit log ({', '.join(changed)}); "
            f"the file was not served. Run `ihl verify`.")
    case = session.get(Case, evidence.case_id)
    event = CustodyEvent(action=CustodyAction.accessed, occurred_at=utcnow(), actor=actor.email,
                         evidence_id=evidence.id, custodian_to=actor.email,
                         purpose="Original downloaded")
    _observe(event, evidence, store)
    if not event.hash_matched:
        raise EvidenceIntegrityError(
            f"The stored file of {evidence.ref} is missing or no longer matches its SHA-256; "
            f"it was not served. Run `ihl verify`.")
    _append(session, evidence, event, case)
    return store.open(evidence.sha256)


def record_export(session: Session, evidence: Evidence, *, actor: str, purpose: str,
                  case: Case) -> CustodyEvent:
    """An `exported` event: the item (its record and hash) went out in a document, e.g. a
    dossier. The file itself is not read, so nothing is re-hashed."""
    event = CustodyEvent(action=CustodyAction.exported, occurred_at=utcnow(), actor=actor,
                         evidence_id=evidence.id, purpose=purpose[:2000])
    return _append(session, evidence, event, case)


def custody_chain(session: Session, evidence: Evidence) -> list[CustodyEvent]:
    return list(session.exec(select(CustodyEvent).where(CustodyEvent.evidence_id == evidence.id)
                             .order_by(CustodyEvent.occurred_at, CustodyEvent.id)))


def custody_warnings(events: list[CustodyEvent],
                     evidence: Evidence | None = None) -> dict[int | None, list[str]]:
    """Gaps in a chain, by the event where each shows (None: the chain as a whole).

    Given the item, a long delay between its collection (its acquisition time, else its first
    event) and its upload is a warning on the whole chain."""
    warnings: dict[int | None, list[str]] = {}
    holder: str | None = None
    released_at = None
    stored_at: str | None = None
    for event in events:
        notes = []
        if event.hash_matched is False:
            notes.append("The file's hash did not match the recorded SHA-256 at this step.")
        if event.action in (CustodyAction.accessed, CustodyAction.exported):
            warnings[event.id] = notes
            continue
        giver = event.custodian_from.strip()
        if released_at is not None and event.action not in (CustodyAction.collected,
                                                            CustodyAction.received):
            notes.append(f"No custodian since the release on {released_at:%Y-%m-%d}.")
        if holder and giver and giver.casefold() != holder.casefold():
            notes.append(f"The item moves from {giver}, but the last recorded custodian was "
                         f"{holder}: no transfer event between them.")
        notes += _out_of_storage(event, stored_at)
        stored_at = _storage_after(event, stored_at)
        if event.action == CustodyAction.released:
            holder, released_at = None, event.occurred_at
        elif event.custodian_to.strip():
            holder, released_at = event.custodian_to.strip(), None
        if notes:
            warnings[event.id] = notes
    if events and events[0].action not in (CustodyAction.collected, CustodyAction.received):
        warnings.setdefault(None, []).append("The chain does not start with collection or receipt.")
    if not events:
        warnings[None] = ["No custody event is recorded."]
    late = _late_upload(events, evidence)
    if late:
        warnings.setdefault(None, []).append(late)
    return {k: v for k, v in warnings.items() if v}


# Steps that take an item out of storage on the record: a transfer names who took it from
# there, a release says it left custody, a new storage says where it went.
_LEAVES_STORAGE = (CustodyAction.transferred, CustodyAction.released, CustodyAction.stored)


def _out_of_storage(event: CustodyEvent, stored_at: str | None) -> list[str]:
    """The gap of an item stored at a place that is next with someone, with no transfer."""
    taker = event.custodian_to.strip()
    if stored_at is None or not taker or event.action in _LEAVES_STORAGE:
        return []
    if taker.casefold() == stored_at.casefold():
        return []
    return [f"The item was stored at {stored_at}, then is with {taker}: no transfer out of "
            f"storage between them."]


def _storage_after(event: CustodyEvent, stored_at: str | None) -> str | None:
    """Where the item is stored after an event, if it is in storage."""
    if event.action == CustodyAction.stored:
        return event.place.strip() or event.custodian_to.strip() or "an unnamed place"
    if event.action in _LEAVES_STORAGE or event.custodian_to.strip():
        return None
    return stored_at


def _late_upload(events: list[CustodyEvent], evidence: Evidence | None) -> str | None:
    if evidence is None:
        return None
    collected = evidence.acquired_at or (events[0].occurred_at if events else None)
    return custody_times.upload_delay(collected, evidence.created_at)


def get_evidence(session: Session, ref: str) -> Evidence:
    evidence = session.exec(select(Evidence).where(Evidence.ref == ref)).first()
    if evidence is None:
        raise NotFound(f"No evidence {ref}.")
    return evidence


def thumbnail_of(session: Session, evidence: Evidence) -> EvidenceDerivative | None:
    return session.exec(select(EvidenceDerivative).where(
        EvidenceDerivative.evidence_id == evidence.id,
        EvidenceDerivative.purpose == THUMBNAIL)).first()


def linked_incidents(session: Session, evidence: Evidence) -> list[tuple[Incident, str]]:
    rows = session.exec(select(Incident, IncidentEvidence.relevance)
                        .join(IncidentEvidence, IncidentEvidence.incident_id == Incident.id)
                        .where(IncidentEvidence.evidence_id == evidence.id).order_by(Incident.ref))
    return [(incident, relevance) for incident, relevance in rows]


def evidence_of_incident(session: Session, incident: Incident) -> list[tuple[Evidence, str]]:
    rows = session.exec(select(Evidence, IncidentEvidence.relevance)
                        .join(IncidentEvidence, IncidentEvidence.evidence_id == Evidence.id)
                        .where(IncidentEvidence.incident_id == incident.id).order_by(Evidence.ref))
    return [(evidence, relevance) for evidence, relevance in rows]


def evidence_read(session: Session, evidence: Evidence) -> EvidenceRead:
    case = session.get(Case, evidence.case_id)
    parent = session.get(Evidence, evidence.parent_id) if evidence.parent_id else None
    thumb = thumbnail_of(session, evidence)
    data = {f: getattr(evidence, f) for f in EvidenceRead.model_fields if hasattr(evidence, f)}
    return EvidenceRead.model_construct(
        **data, case_ref=case.ref, parent_ref=parent.ref if parent else None,
        incidents=[i.ref for i, _ in linked_incidents(session, evidence)],
        thumbnail_sha256=thumb.sha256 if thumb else None)


def metadata_discrepancies(evidence: Evidence, incidents: list[Incident]) -> list[str]:
    """Where the file's own metadata disagrees with what was entered or with its incidents."""
    flags = []
    if evidence.capture_time and evidence.published_at and evidence.capture_time > evidence.published_at:
        flags.append(f"EXIF capture time ({evidence.capture_time:%Y-%m-%d %H:%M} UTC) is after "
                     f"the stated publication time ({evidence.published_at:%Y-%m-%d %H:%M} UTC).")
    if evidence.capture_time and evidence.acquired_at and evidence.capture_time > evidence.acquired_at:
        flags.append(f"EXIF capture time ({evidence.capture_time:%Y-%m-%d %H:%M} UTC) is after "
                     f"the stated acquisition time ({evidence.acquired_at:%Y-%m-%d %H:%M} UTC).")
    for incident in incidents:
        if (evidence.capture_latitude is not None and incident.latitude is not None):
            km = metadata.distance_km(evidence.capture_latitude, evidence.capture_longitude,
                                      incident.latitude, incident.longitude)
            allowed = max(5.0, (incident.location_precision_m or 0) / 1000 * 2)
            if km > allowed:
                flags.append(f"EXIF position is {km:,.1f} km from incident {incident.ref}'s "
                             f"coordinates.")
        if evidence.capture_time:
            start = incident.occurred_from
            if evidence.capture_time < start - _slack(incident.date_precision):
                flags.append(f"EXIF capture time is before incident {incident.ref} began "
                             f"({localtime.local_date(incident)}).")
    return flags


def _slack(precision: str) -> timedelta:
    return {"exact": timedelta(hours=1), "day": timedelta(days=1),
            "month": timedelta(days=31)}.get(precision, timedelta(days=7))


@dataclass
class EvidenceFilter:
    kind: str | None = None
    sensitivity: str | None = None
    incident_id: int | None = None


def search_evidence(session: Session, case: Case, flt: EvidenceFilter, *, offset: int = 0,
                    limit: int = 25) -> tuple[list[Evidence], int]:
    """The case's items matching the filter, in the order they were registered; (page, total)."""
    query = select(Evidence).where(Evidence.case_id == case.id)
    if flt.kind:
        query = query.where(Evidence.kind == flt.kind)
    if flt.sensitivity:
        query = query.where(Evidence.sensitivity == flt.sensitivity)
    if flt.incident_id is not None:
        query = query.join(IncidentEvidence, IncidentEvidence.evidence_id == Evidence.id).where(
            IncidentEvidence.incident_id == flt.incident_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Evidence.id).offset(offset).limit(limit)).all()
    return list(rows), total


def incident_refs(session: Session, items: list[Evidence]) -> dict[int, list[str]]:
    """Evidence id -> the refs of the incidents it is linked to."""
    refs: dict[int, list[str]] = {item.id: [] for item in items}
    rows = session.exec(select(IncidentEvidence.evidence_id, Incident.ref)
                        .join(Incident, Incident.id == IncidentEvidence.incident_id)
                        .where(IncidentEvidence.evidence_id.in_(list(refs)))
                        .order_by(Incident.ref))
    for evidence_id, ref in rows:
        refs[evidence_id].append(ref)
    return refs
