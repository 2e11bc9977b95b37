"""The legal catalogue and qualifications through the API: browse provisions, qualify an
incident under one, and record the finding on each element with the evidence cited for it."""

import re

from flask import request
from sqlmodel import Session

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.errors import invalid
from ihl_docs.api.incidents import incident_for
from ihl_docs.api.pages import page
from ihl_docs.api.schemas import ProvisionRead, QualificationRead
from ihl_docs.core.access import can_do_legal_work, can_read_case
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden, NotFound
from ihl_docs.core.models import Case, Incident, Qualification, User
from ihl_docs.provisions import services as provisions
from ihl_docs.qualifications import services as qualifications

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
ID_PATTERN = re.compile(r"[0-9]{1,10}")
NUMBER_PATTERN = re.compile(r"[+-]?[0-9]{1,18}")
MAX_ID = 2**31 - 1  # the databases' integer keys


def list_provisions():
    """The catalogue, searched and filtered like the web list."""
    session, _user = get_session(), api_user()
    params = inputs.query()
    wanted = provisions.ProvisionFilter(q=params.q, instrument=params.instrument,
                                        category=params.category, applies_to=params.applies_to)
    rows, total = provisions.search_provisions(session, wanted, offset=params.offset,
                                               limit=params.limit)
    return page([_provision(session, row) for row in rows], total, params)


def show_provision(key: str):
    session, _user = get_session(), api_user()
    if not KEY_PATTERN.fullmatch(key):
        raise NotFound("No provision with that key in the catalogue.")
    return _provision(session, provisions.get_provision(session, key))


def list_qualifications(ref: str):
    """The incident's qualifications, in the order they were made."""
    session = get_session()
    incident = incident_for(session, api_user(), ref)
    params = inputs.query()
    rows = qualifications.qualifications_of(session, incident)
    shown = rows[params.offset:params.offset + params.limit]
    return page([_qualification(session, row) for row in shown], len(rows), params)


def add_qualification(ref: str):
    """Qualify the incident under a provision; each element starts as not assessed."""
    session, user = get_session(), api_user()
    incident = incident_for(session, user, ref)
    _require_qualifier(session, user, incident)
    body = inputs.body()
    qualification = qualifications.add_qualification(
        session, incident, body.provision_key, body.assessment.value, body.analysis, actor=user)
    result = _qualification(session, qualification)
    session.commit()
    return result


def set_element_finding(id: str, number: str):  # noqa: A002 - the path names it so
    """Record the finding on one element and the evidence cited for it (replacing the old)."""
    session, user = get_session(), api_user()
    qualification = _qualification_for(session, user, id)
    incident = session.get(Incident, qualification.incident_id)
    _require_qualifier(session, user, incident)
    expected = inputs.if_match_version() if "If-Match" in request.headers else None
    if not NUMBER_PATTERN.fullmatch(number):
        raise invalid({"number": "Give the element's number, a whole number."})
    body = inputs.body()
    qualifications.set_finding(
        session, qualification, int(number), body.status.value, body.note,
        [(c.ref, c.stance.value) for c in body.evidence], expected_version=expected, actor=user)
    result = _qualification(session, qualification)
    session.commit()
    return result


def _qualification_for(session: Session, user: User, qid: str) -> Qualification:
    """The qualification if the user may see its case; otherwise (or unknown) not found."""
    missing = NotFound(f"No qualification {qid} that you can see.")
    if not ID_PATTERN.fullmatch(qid) or int(qid) > MAX_ID:
        raise missing
    try:
        qualification = qualifications.get_qualification(session, int(qid))
    except NotFound:
        raise missing from None
    incident = session.get(Incident, qualification.incident_id)
    case = session.get(Case, incident.case_id) if incident else None
    if case is None or not can_read_case(session, user, case):
        raise missing
    return qualification


def _require_qualifier(session: Session, user: User, incident: Incident) -> None:
    if not can_do_legal_work(session, user, session.get(Case, incident.case_id)):
        raise Forbidden("Only the case's lawyers (and administrators) qualify incidents.")


def _provision(session: Session, provision) -> ProvisionRead:
    return ProvisionRead.model_construct(**provisions.provision_read(session, provision))


def _qualification(session: Session, qualification: Qualification) -> QualificationRead:
    return QualificationRead.model_construct(
        **qualifications.qualification_read(session, qualification))
