"""Incidents: filing, editing with optimistic locking, the review workflow, search."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, func, select

from ihl_docs.core import localtime
from ihl_docs.core.access import TRANSITIONS, can_edit_case, is_member
from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import ROW_LOCK
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import (
    Case,
    CivilianObject,
    Incident,
    IncidentCreate,
    IncidentRead,
    Party,
    User,
    WorkflowStatus,
    _valid_state_code,
)
from ihl_docs.core.versions import lock_at_version, save_version
from ihl_docs.incidents import approval, search

EDITABLE_FIELDS = [f for f in IncidentCreate.model_fields if f != "responsible_party"]


def incident_problems(values: dict, now: datetime) -> dict[str, str]:
    """Rules that span fields; field -> message for each one broken."""
    problems = {}
    start, end = values.get("occurred_from"), values.get("occurred_to")
    if start and start > now:
        problems["occurred_from"] = "The start cannot be in the future."
    if end and end > now:
        problems["occurred_to"] = "The end cannot be in the future."
    if start and end and end < start:
        problems["occurred_to"] = "The end cannot be before the start."
    for kind in ("killed", "injured"):
        low, high = values.get(f"{kind}_min"), values.get(f"{kind}_max")
        if low is not None and high is not None and low > high:
            problems[f"{kind}_max"] = f"The maximum {kind} cannot be below the minimum."
        total = high if high is not None else low
        children = values.get(f"children_{kind}")
        if children is not None and total is not None and children > total:
            problems[f"children_{kind}"] = f"Children {kind} cannot exceed the total {kind}."
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        missing = "longitude" if values.get("longitude") is None else "latitude"
        problems[missing] = "Give both latitude and longitude, or neither."
    try:
        _valid_state_code(values.get("country"))
    except ValueError:
        problems["country"] = "Use the ISO 3166-1 alpha-3 code of the country (e.g. ARM)."
    problems.update(local_time_problems(values))
    return problems


def local_time_problems(values: dict) -> dict[str, str]:
    """Where the zone, the offset and the offsets written in the times cannot all be true."""
    zone, minutes = values.get("time_zone") or "", values.get("utc_offset_minutes")
    start = values.get("occurred_from")
    if zone and not localtime.is_zone(zone):
        return {"time_zone": f"{zone!r} is not a time zone of the IANA database."}
    if localtime.offset_problem(minutes):
        return {"utc_offset_minutes": localtime.offset_problem(minutes)}
    if zone and minutes is not None and start:
        problem = localtime.zone_disagreement(zone, minutes, start)
        if problem:
            return {"utc_offset_minutes": problem}
    problems = {}
    for name in ("occurred_from", "occurred_to"):
        written = _written_offset(values.get(name))
        if written is None:
            continue
        problem = localtime.offset_problem(written) or _against_recorded(
            zone, minutes, written, values[name])
        if problem:
            problems[name] = problem
    return problems


def _written_offset(moment: datetime | None) -> int | None:
    """The offset a time was written with, in minutes; None for a UTC time ("Z", "+00:00"),
    which says when, not where."""
    if moment is None:
        return None
    minutes = localtime.offset_minutes(moment)
    return minutes or None


def _against_recorded(zone: str, minutes: int | None, written: int, moment: datetime) -> str | None:
    """Why a time written at offset `written` contradicts the incident's zone or offset."""
    there = localtime.local(moment, zone, minutes)
    if (not zone and minutes is None) or localtime.offset_minutes(there) == written:
        return None
    recorded = f"{zone} was at" if zone else "the incident's offset is"
    return (f"The time is written at {localtime.offset_text(written)}, but {recorded} "
            f"{localtime.offset_text(localtime.offset_minutes(there))} on {there.date()}: "
            f"write it at that offset, or in UTC (Z).")


def settle_local_time(values: dict, *, zone_from_country: bool) -> None:
    """Record where the incident is in time, then keep its moments in UTC.

    No zone and no offset given: with `zone_from_country` (a filing that says nothing of the
    zone), a country that has only one zone gives it (a country with several, the one at the
    coordinates), unless the start was written at another offset; otherwise the offset the
    start was written with ("+04:00") is recorded. A time written in UTC ("Z") says nothing of
    the place, so a country with several zones and no coordinates leaves it unknown.
    """
    start = values.get("occurred_from")
    if not values.get("time_zone") and values.get("utc_offset_minutes") is None:
        written = _written_offset(start)
        zone = (localtime.default_zone(values.get("country"), values.get("latitude"),
                                       values.get("longitude")) if zone_from_country else "")
        if zone and (written is None or not localtime.zone_disagreement(zone, written, start)):
            values["time_zone"] = zone
        else:
            values["utc_offset_minutes"] = written
    values["time_zone"] = values.get("time_zone") or ""
    for name in ("occurred_from", "occurred_to"):
        if values.get(name) is not None:
            values[name] = values[name].astimezone(UTC)


def _party_id(session: Session, case: Case, name: str | None) -> int | None:
    if not name:
        return None
    party = session.exec(select(Party).where(Party.case_id == case.id, Party.name == name)).first()
    if party is None:
        message = f"{name} is not one of this case's parties."
        raise InvalidInput(message, {"responsible_party": message})
    return party.id


def _check(values: dict, *, zone_from_country: bool = False) -> None:
    problems = incident_problems(values, utcnow())
    if problems:
        raise InvalidInput("Some fields need correcting.", problems)
    values["country"] = _valid_state_code(values.get("country"))
    settle_local_time(values, zone_from_country=zone_from_country)
    # One spelling of the same set, whichever order it came in: re-saving is not a change.
    chosen = {str(v) for v in values.get("civilian_objects") or []}
    values["civilian_objects"] = [o.value for o in CivilianObject if o.value in chosen]


def create_incident(session: Session, case: Case, data: IncidentCreate, *, actor: User) -> Incident:
    """File an incident in a case, as a draft."""
    if not can_edit_case(session, actor, case):
        raise Forbidden("Your role does not allow filing incidents in this case.")
    values = data.model_dump(exclude={"responsible_party"})
    # A zone given, even as "" (not known), is kept; only a filing that says nothing of it
    # takes the zone of its country.
    _check(values, zone_from_country="time_zone" not in data.model_fields_set)
    party_id = _party_id(session, case, data.responsible_party)
    session.refresh(case, with_for_update=ROW_LOCK)
    case.incident_counter += 1
    incident = Incident(**values, case_id=case.id, responsible_party_id=party_id,
                        ref=f"{case.ref}-I{case.incident_counter:03d}", created_by_id=actor.id)
    session.add_all([case, incident])
    session.flush()
    audit.record(session, actor=actor.email, action="create", entity="incident",
                 entity_id=incident.ref, case_ref=case.ref,
                 after=incident_snapshot(session, incident))
    return incident


def update_incident(session: Session, incident: Incident, changes: dict, *, expected_version: int,
                    actor: User) -> Incident:
    """Apply field changes to an incident if nobody changed it since `expected_version`."""
    case = session.get(Case, incident.case_id)
    if not can_edit_case(session, actor, case):
        raise Forbidden("Your role does not allow editing incidents in this case.")
    lock_at_version(session, incident, expected_version, entity="incident",
                    entity_id=incident.ref, what=f"Incident {incident.ref}")
    if incident.workflow_status == WorkflowStatus.approved:
        raise Forbidden("This incident is approved; a lawyer must reopen it before it is edited.")
    before = incident_snapshot(session, incident)
    values = {f: getattr(incident, f) for f in EDITABLE_FIELDS}
    values.update({k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    _check(values)
    if "responsible_party" in changes:
        incident.responsible_party_id = _party_id(session, case, changes["responsible_party"])
    for name, value in values.items():
        setattr(incident, name, value)
    save_version(session, incident, before, lambda: incident_snapshot(session, incident),
                 actor=actor.email, entity="incident", entity_id=incident.ref, case_ref=case.ref)
    return incident


def change_status(session: Session, incident: Incident, to: str, *, expected_version: int,
                  actor: User, note: str = "",
                  checks: list[approval.ApprovalCheck] | None = None) -> Incident:
    """Move an incident along draft -> submitted -> in legal review -> approved.

    Approving an incident with gaps (see `approval`; `checks` defaults to those the
    application registered) needs a `note` saying why, kept as its approval note; reopening it
    clears the note, which its audit history keeps."""
    case = session.get(Case, incident.case_id)
    lock_at_version(session, incident, expected_version, entity="incident",
                    entity_id=incident.ref, what=f"Incident {incident.ref}",
                    message="{what} was changed by someone else since you opened it.")
    roles = TRANSITIONS.get((incident.workflow_status, to))
    if roles is None:
        raise InvalidInput(f"An incident cannot go from {incident.workflow_status} to {to}.",
                           {"workflow_status": "not a permitted step"})
    member = actor.role == "admin" or is_member(session, actor, case)
    if actor.role not in roles or not member:
        raise Forbidden(f"Your role may not move an incident to {to}.")
    if to == WorkflowStatus.approved:
        _check_approval(session, incident, note.strip(), checks)
    before = incident_snapshot(session, incident)
    incident.workflow_status = to
    incident.approval_note = note.strip() if to == WorkflowStatus.approved else ""
    save_version(session, incident, before, lambda: incident_snapshot(session, incident),
                 actor=actor.email, action="status_change", entity="incident",
                 entity_id=incident.ref, case_ref=case.ref)
    return incident


def _check_approval(session: Session, incident: Incident, note: str,
                    checks: list[approval.ApprovalCheck] | None) -> None:
    """Refuse an approval with gaps and no note, naming every gap."""
    if len(note) > approval.MAX_NOTE:
        message = f"The approval note is too long: at most {approval.MAX_NOTE:,} characters."
        raise InvalidInput(message, {"note": message})
    if note:
        return
    gaps = approval.approval_gaps(session, incident, approval.registered_checks()
                                  if checks is None else checks)
    if gaps:
        message = approval.note_needed(incident, gaps)
        raise InvalidInput(message, {"note": message})


def approval_gaps(session: Session, incident: Incident) -> list[str]:
    """What approving the incident now would have to answer for (the application's checks)."""
    return approval.approval_gaps(session, incident, approval.registered_checks())


def incident_snapshot(session: Session, incident: Incident) -> dict:
    snap = audit.snapshot(incident)
    snap["responsible_party"] = _party_name(session, incident)
    return snap


def _party_name(session: Session, incident: Incident) -> str | None:
    if incident.responsible_party_id is None:
        return None
    party = session.get(Party, incident.responsible_party_id)
    return party.name if party else None


def incident_read(session: Session, incident: Incident) -> IncidentRead:
    case = session.get(Case, incident.case_id)
    data = {f: getattr(incident, f) for f in IncidentRead.model_fields
            if hasattr(incident, f) and f not in {"case_ref", "responsible_party"}}
    return IncidentRead.model_construct(**data, case_ref=case.ref,
                                        responsible_party=_party_name(session, incident),
                                        **local_read(incident))


def local_read(incident: Incident) -> dict:
    """The incident's moments in its local time and its local date, as the API gives them."""
    return {"occurred_from_local": localtime.local_iso(incident, "occurred_from"),
            "occurred_to_local": localtime.local_iso(incident, "occurred_to"),
            "local_date": localtime.local_date(incident)}


def get_incident(session: Session, ref: str) -> Incident:
    incident = session.exec(select(Incident).where(Incident.ref == ref)).first()
    if incident is None:
        raise NotFound(f"No incident {ref}.")
    return incident


@dataclass
class IncidentFilter:
    incident_type: str | None = None
    verification_status: str | None = None
    workflow_status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    q: str | None = None
    case_ids: list[int] | None = field(default=None)


def search_incidents(session: Session, case: Case | None, flt: IncidentFilter, *,
                     offset: int = 0, limit: int = 25,
                     count_limit: int | None = None) -> tuple[list[Incident], int]:
    """Incidents matching the filter, newest first; returns (page, total).

    With `count_limit`, counting stops there: a total above `count_limit` means "more than".
    """
    dialect = session.get_bind().dialect.name
    query = select(Incident.id)
    if case is not None:
        query = query.where(Incident.case_id == case.id)
    if flt.case_ids is not None:
        query = query.where(search.among_cases(dialect, flt.case_ids))
    for name in ("incident_type", "verification_status", "workflow_status"):
        value = getattr(flt, name)
        if value:
            query = query.where(getattr(Incident, name) == value)
    if flt.date_from:
        query = query.where(func.coalesce(Incident.occurred_to, Incident.occurred_from)
                            >= flt.date_from)
    if flt.date_to:
        query = query.where(Incident.occurred_from <= flt.date_to)
    if flt.q:
        words = search.matching(session, flt.q)
        query = query.where(words if words is not None else sa.false())
    counted = query if count_limit is None else query.limit(count_limit + 1)
    total = session.exec(select(sa.func.count()).select_from(counted.subquery())).one()
    newest_first = (Incident.occurred_from.desc(), Incident.id.desc())
    # The page's ids come from the narrow list indexes; only those rows are then read whole.
    page = query.order_by(*newest_first).offset(offset).limit(limit)
    rows = session.exec(select(Incident).where(Incident.id.in_(page.scalar_subquery()))
                        .order_by(*newest_first)).all()
    return list(rows), total
