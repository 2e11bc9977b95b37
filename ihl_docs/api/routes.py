"""The route table: each endpoint's method, path, models, answers and security.

The same table registers the Flask routes, chooses the models that validate each request and
writes the OpenAPI document, so what is documented is what runs.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import wraps

from flask import Blueprint, current_app, g
from pydantic import BaseModel
from werkzeug.wrappers import Response

from ihl_docs.api import (
    audit,
    cases,
    custody,
    dossiers,
    evidence,
    incidents,
    openapi,
    protection,
    qualifications,
    treaties,
)
from ihl_docs.api.auth import authenticate
from ihl_docs.api.schemas import (
    AttributionUpdate,
    AuditEntryList,
    AuditQuery,
    CaseCreate,
    CaseList,
    CustodyChain,
    CustodyEntry,
    CustodyEventCreate,
    DossierAccepted,
    DossierCreate,
    DossierList,
    DossierRead,
    EvidenceLinkCreate,
    EvidenceLinkRead,
    EvidenceList,
    EvidenceQuery,
    EvidenceUpload,
    FindingUpdate,
    IncidentCreate,
    IncidentList,
    IncidentQuery,
    IncidentUpdate,
    ListQuery,
    MemberAdd,
    MemberRead,
    ParticipationRead,
    ProtectedTermCreate,
    ProtectedTermList,
    ProtectedTermRead,
    ProvisionList,
    ProvisionQuery,
    ProvisionRead,
    QualificationCreate,
    QualificationList,
    QualificationRead,
    StatusChange,
    TreatyState,
    VerificationAccepted,
    VerificationCreate,
    VerificationRead,
    VerificationReport,
)
from ihl_docs.core.db import open_session
from ihl_docs.core.models import CaseRead, EvidenceRead, IncidentRead
from ihl_docs.provisions.treaties import ParticipationFields

READ = (401, 404)
LIST = (401, 404, 422)
WRITE = (400, 401, 403, 404, 409, 413, 415, 422)
EDIT = WRITE + (428,)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as OpenAPI writes it: /cases/{ref}
    view: Callable
    summary: str
    status: int = 200
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None  # a multipart/form-data body, with a file
    result: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    if_match: bool = False
    if_match_optional: bool = False  # If-Match may be left out (then no version is checked)
    public: bool = False
    download: bool | dict = False  # answers with a file's bytes (a dict: documented so)
    writes: bool = False  # a GET that records something (a download is a custody event)
    errors: tuple[int, ...] = READ

    @property
    def rule(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")


ROUTES = [
    Route("GET", "/cases", cases.list_cases, "The cases you may see",
          query=ListQuery, result=CaseList, errors=(401, 422)),
    Route("POST", "/cases", cases.create_case, "Open a case (you become its first member)",
          status=201, body=CaseCreate, result=CaseRead,
          errors=(400, 401, 403, 409, 413, 415, 422)),
    Route("GET", "/cases/{ref}", cases.show_case, "A case with its incident and evidence refs",
          result=CaseRead),
    Route("POST", "/cases/{ref}/members", cases.add_case_member,
          "Add a user to the case, with the rights of their role",
          status=201, body=MemberAdd, result=MemberRead, errors=WRITE),
    Route("PUT", "/cases/{ref}/attribution", cases.set_party_attribution,
          "Record that a non-state party is alleged to act for, or under the control of, a "
          "state (the case's investigators and lawyers); treaty checks then follow that state",
          body=AttributionUpdate, result=CaseRead, if_match=True, errors=EDIT),
    Route("GET", "/cases/{ref}/protected-terms", protection.list_terms,
          "The case's register of protected terms, withdrawn entries included (the case's "
          "investigators and lawyers)", result=ProtectedTermList, errors=(401, 403, 404)),
    Route("POST", "/cases/{ref}/protected-terms", protection.add_term,
          "Add a name, number, address, place or handle (or a pattern) that court and public "
          "dossiers replace with [protected N]", status=201, body=ProtectedTermCreate,
          result=ProtectedTermRead, errors=WRITE),
    Route("POST", "/cases/{ref}/protected-terms/{number}/withdraw", protection.withdraw_term,
          "Withdraw an entry: it stays in the register, inactive, and its number is not reused",
          result=ProtectedTermRead, if_match=True, errors=EDIT),
    Route("GET", "/cases/{ref}/incidents", incidents.list_case_incidents,
          "The case's incidents, newest first", query=IncidentQuery, result=IncidentList,
          errors=LIST),
    Route("POST", "/cases/{ref}/incidents", incidents.create_case_incident,
          "File an incident in the case, as a draft",
          status=201, body=IncidentCreate, result=IncidentRead, errors=WRITE),
    Route("GET", "/incidents/{ref}", incidents.show_incident, "An incident", result=IncidentRead),
    Route("PATCH", "/incidents/{ref}", incidents.update_incident,
          "Change some of an incident's fields", body=IncidentUpdate, result=IncidentRead,
          if_match=True, errors=EDIT),
    Route("POST", "/incidents/{ref}/status", incidents.change_incident_status,
          "Move an incident through the review workflow", body=StatusChange,
          result=IncidentRead, if_match=True, errors=EDIT),
    Route("GET", "/cases/{ref}/evidence", evidence.list_case_evidence,
          "The case's evidence, in the order it was recorded", query=EvidenceQuery,
          result=EvidenceList, errors=LIST),
    Route("POST", "/cases/{ref}/evidence", evidence.upload_case_evidence,
          "Record an item of evidence: a file (multipart) or a physical item",
          status=201, form=EvidenceUpload, result=EvidenceRead, errors=WRITE + (507,)),
    Route("GET", "/evidence/{ref}", evidence.show_evidence,
          "An item of evidence with its linked incidents", result=EvidenceRead),
    Route("GET", "/evidence/{ref}/content", evidence.download_evidence,
          "The original bytes as a download, re-hashed first (recorded as `accessed`)",
          download=True, writes=True, errors=(401, 404, 409)),
    Route("GET", "/evidence/{ref}/custody", custody.list_custody,
          "The chain of custody in order, with its gaps", query=ListQuery,
          result=CustodyChain, errors=LIST),
    Route("POST", "/evidence/{ref}/custody", custody.record_custody_event,
          "Record a custody event (transferred, received, sealed, stored, copied, analysed, "
          "released)", status=201, body=CustodyEventCreate, result=CustodyEntry, errors=WRITE),
    Route("POST", "/incidents/{ref}/evidence", evidence.link_incident_evidence,
          "Link an item of the case to the incident", status=201, body=EvidenceLinkCreate,
          result=EvidenceLinkRead, errors=WRITE),
    Route("GET", "/provisions", qualifications.list_provisions,
          "The legal catalogue, searched and filtered, with each provision's elements",
          query=ProvisionQuery, result=ProvisionList, errors=(401, 422)),
    Route("GET", "/provisions/{key}", qualifications.show_provision,
          "A provision of the catalogue with its elements", result=ProvisionRead),
    Route("GET", "/treaties/{state}", treaties.show_state,
          "A state's treaty participation, one row per instrument that has one (an instrument "
          "without a row is unknown, never 'not a party'), and its ICC jurisdiction facts",
          result=TreatyState),
    Route("PUT", "/treaties/{state}/{instrument}", treaties.put_participation,
          "Add or correct the state's participation in an instrument, as the legal team "
          "(lawyers and administrators); kept over catalogue upgrades",
          body=ParticipationFields, result=ParticipationRead, if_match=True,
          if_match_optional=True, errors=WRITE),
    Route("GET", "/incidents/{ref}/qualifications", qualifications.list_qualifications,
          "The incident's qualifications, with findings per element and applicability warnings",
          query=ListQuery, result=QualificationList, errors=LIST),
    Route("POST", "/incidents/{ref}/qualifications", qualifications.add_qualification,
          "Qualify the incident under a provision (the case's lawyers and administrators)",
          status=201, body=QualificationCreate, result=QualificationRead, errors=WRITE),
    Route("PUT", "/qualifications/{id}/elements/{number}", qualifications.set_element_finding,
          "Record the finding on one element of a qualification and the evidence cited for it",
          body=FindingUpdate, result=QualificationRead, if_match=True, if_match_optional=True,
          errors=WRITE),
    Route("GET", "/cases/{ref}/dossiers", dossiers.list_case_dossiers,
          "The case's dossiers, newest first", query=ListQuery, result=DossierList, errors=LIST),
    Route("POST", "/cases/{ref}/dossiers", dossiers.request_case_dossier,
          "Request a dossier of the case (its lawyers and administrators); it is built in the "
          "background: follow it at /dossiers/{id}", status=202, body=DossierCreate,
          result=DossierAccepted, errors=WRITE),
    Route("GET", "/dossiers/{id}", dossiers.show_dossier,
          "A dossier's status and progress; once done, its SHA-256, pages and case fingerprint",
          result=DossierRead),
    Route("GET", "/dossiers/{id}/pdf", dossiers.download_dossier_pdf,
          "The dossier's PDF as a download, re-hashed first (409 while it is not done)",
          download=openapi.PDF_DOWNLOAD, errors=(401, 404, 409)),
    Route("GET", "/audit", audit.list_audit_entries,
          "Audit log entries in seq order, after the seq given (auditors and administrators)",
          query=AuditQuery, result=AuditEntryList, errors=(401, 403, 422)),
    Route("POST", "/verify", audit.run_verification,
          "Re-hash every stored file, hold every record against the replayed audit log and "
          "recompute the audit chain against its signed checkpoints and their witnesses, as "
          "`ihl verify` does "
          "(auditors and administrators)",
          result=VerificationReport, errors=(401, 403)),
    Route("POST", "/verifications", audit.start_verification,
          "Start a verification of everything or of one case (auditors and administrators); it "
          "runs in the background: follow it at /verifications/{id}", status=202,
          body=VerificationCreate, result=VerificationAccepted,
          errors=(400, 401, 403, 413, 415, 422)),
    Route("GET", "/verifications/{id}", audit.show_verification,
          "A verification's status and progress; once done, what it checked and each finding, "
          "naming the evidence ref, dossier or audit seq (auditors and administrators)",
          result=VerificationRead, errors=(401, 403, 404)),
    Route("GET", "/openapi.json", openapi.openapi_document, "This OpenAPI document",
          public=True, errors=()),
]


def register_routes(bp: Blueprint) -> None:
    for route in ROUTES:
        bp.add_url_rule(route.rule, route.view.__name__, _endpoint(route),
                        methods=[route.method])


def _endpoint(route: Route) -> Callable:
    @wraps(route.view)
    def endpoint(**path):
        g.api_route = route
        if route.writes:  # SQLite: a writer takes the lock at BEGIN (see db.py)
            g.db_session = open_session(current_app.extensions["ihl_engine"], write=True)
        if not route.public:
            authenticate()
        result = route.view(**path)
        return result if isinstance(result, Response) else answer(result, route.status)

    return endpoint


def answer(result, status: int = 200):
    """A JSON response in the models' field order, with an ETag when the record has a version."""
    text = json.dumps(jsonable(result), ensure_ascii=False)
    response = current_app.response_class(text + "\n", status=status,
                                          mimetype="application/json")
    version = getattr(result, "version", None)
    if isinstance(version, int):
        response.set_etag(str(version))
    return response


def jsonable(value):
    """Models, enums and times as JSON values; times in ISO 8601 with their UTC offset."""
    if isinstance(value, BaseModel):
        # Service read models may hold enum values as plain strings; that is expected.
        value = value.model_dump(mode="python", by_alias=True, warnings=False)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
