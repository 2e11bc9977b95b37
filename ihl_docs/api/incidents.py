"""Incidents through the API: list and file within a case, show, edit, move through review."""

from pydantic import ValidationError
from sqlmodel import Session

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.errors import field_messages, invalid
from ihl_docs.api.pages import page
from ihl_docs.api.schemas import IncidentCreate
from ihl_docs.core import localtime
from ihl_docs.core.access import EDIT, case_for, load_in_case
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden
from ihl_docs.core.models import Incident, Role, User
from ihl_docs.incidents import services as incidents


def list_case_incidents(ref: str):
    """The case's incidents, newest first, filtered like the web list."""
    session = get_session()
    case = case_for(session, api_user(), inputs.checked_ref(ref, "case"))
    params = inputs.query()
    filters = incidents.IncidentFilter(
        incident_type=params.incident_type, verification_status=params.verification_status,
        workflow_status=params.workflow_status, q=params.q,
        date_from=params.date_from, date_to=params.date_to)
    rows, total = incidents.search_incidents(session, case, filters, offset=params.offset,
                                             limit=params.limit)
    return page([incident_out(session, row) for row in rows], total, params)


def create_case_incident(ref: str):
    """File an incident in the case, as a draft."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"), write=True)
    incident = incidents.create_incident(session, case, inputs.body(), actor=user)
    result = incident_out(session, incident)
    session.commit()
    return result


def show_incident(ref: str):
    session = get_session()
    return incident_out(session, incident_for(session, api_user(), ref))


def update_incident(ref: str):
    """Change some fields of an incident, if it is still at the version the client edited."""
    session, user = get_session(), api_user()
    incident = incident_for(session, user, ref, write=True)
    version = inputs.if_match_version()
    changes = inputs.body().model_dump(exclude_unset=True)
    incidents.update_incident(session, incident, _checked_changes(session, incident, changes),
                              expected_version=version, actor=user)
    result = incident_out(session, incident)
    session.commit()
    return result


def change_incident_status(ref: str):
    """Move an incident along draft -> submitted -> in legal review -> approved."""
    session, user = get_session(), api_user()
    incident = incident_for(session, user, ref)
    if user.role == Role.auditor:
        raise Forbidden("Auditors read; they change nothing.")
    version = inputs.if_match_version()
    body = inputs.body()
    incidents.change_status(session, incident, body.workflow_status, note=body.note,
                            expected_version=version, actor=user)
    result = incident_out(session, incident)
    session.commit()
    return result


def incident_for(session: Session, user: User, ref: str, *, write: bool = False) -> Incident:
    """The incident if the user may see it (404 otherwise) and, with write=True, edit it (403)."""
    inputs.checked_ref(ref, "incident")
    return load_in_case(session, user, Incident, ref, need=EDIT if write else None,
                        refusal="Your role does not allow editing incidents in this case.")[0]


def _checked_changes(session: Session, incident: Incident, changes: dict) -> dict:
    """The changes, checked by the rules of a whole incident (no nulls where a value is due)."""
    current = incidents.incident_read(session, incident)
    merged = {name: getattr(current, name) for name in IncidentCreate.model_fields}
    try:
        whole = IncidentCreate.model_validate({**merged, **changes})
    except ValidationError as exc:
        raise invalid(field_messages(exc)) from None
    return {name: getattr(whole, name) for name in changes}


def incident_out(session, incident):
    """The incident as the API answers it: `occurred_from`/`occurred_to` written with the offset
    they happened at (INTERFACES: they keep the offset they were given), UTC where none is
    recorded; every other time of the API is written in UTC."""
    read = incidents.incident_read(session, incident)
    return read.model_copy(update={
        name: localtime.local_moment(incident, name).isoformat()
        for name in ("occurred_from", "occurred_to") if getattr(incident, name) is not None})
