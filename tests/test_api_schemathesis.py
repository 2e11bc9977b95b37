"""Generated requests against every operation of the OpenAPI document: never a server error,
and every answer as the document describes it (status, content type, body, headers)."""

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ihl_docs.api.openapi import build_document
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.evidence import services as evidence_services
from tests.api_support import CASE_REF, INCIDENT_REF, bearer, token_for
from tests.builders import jpeg_with_exif, load_catalogue, make_case, make_evidence, make_incident, make_user, qualify
from tests.dossier_support import make_dossier

QUALIFIED_KEY, UNQUALIFIED_KEY = "rs-8-2-b-i", "rs-8-2-b-iv"
EVIDENCE_REFS = [f"{CASE_REF}-E0001", f"{CASE_REF}-E0002"]  # a photo, a physical item
DOSSIER_REF = f"{CASE_REF}-D001"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


# The document the app serves (test_api_openapi checks they are the same), loaded once; each
# operation then runs as its own test against a fresh app and database.
schema = schemathesis.openapi.from_dict(build_document())


@pytest.fixture
def admin_headers(db, app, quick_renderer):
    """An admin's token, over a database holding the legal catalogue and case NK-2020-001 with
    one incident, a photo (linked to the incident), a physical item, a qualification and a
    dossier (built by the stand-in renderer: the PDF's content is not what is tested here)."""
    load_catalogue(db)
    admin = make_user(db, "admin", email="fuzz-admin@example.org")
    case = make_case(db, admin, ref=CASE_REF)
    incident = make_incident(db, case, admin, responsible_party="Group B")
    store = app.extensions["ihl_store"]
    photo = make_evidence(db, case, admin, store, jpeg_with_exif(), kind="photo", title="Crater")
    make_evidence(db, case, admin, store, None, title="Fragment")
    evidence_services.link_evidence(db, incident, photo, "", actor=admin)
    db.commit()
    qualify(db, incident, admin, QUALIFIED_KEY)
    make_dossier(db, app, case, admin)
    make_user(db, "legal", email="fuzz-legal@example.org")
    return bearer(token_for(db, admin))


@pytest.fixture
def opened_files(app, monkeypatch):
    """Files the app opens to serve; schemathesis reads a WSGI answer but never closes it (a
    real server does, PEP 3333), so the test closes them after each call."""
    store, opened = app.extensions["ihl_store"], []
    monkeypatch.setattr(store, "open", lambda sha256: opened.append(
        EvidenceStore.open(store, sha256)) or opened[-1])
    return opened


@schema.parametrize()
@schema.given(known_ref=st.booleans(), current_version=st.booleans(),
              evidence_ref=st.sampled_from(EVIDENCE_REFS),
              upload=st.one_of(st.binary(max_size=2048), st.just(jpeg_with_exif(color=(9, 9, 9)))))
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_generated_requests(case, known_ref, current_version, evidence_ref, upload, app,
                            admin_headers, opened_files):
    if known_ref and "ref" in (case.path_parameters or {}):
        known = {"incidents": INCIDENT_REF, "evidence": evidence_ref}
        case.path_parameters["ref"] = known.get(case.path.split("/")[1], CASE_REF)
    if known_ref and "id" in (case.path_parameters or {}):
        if case.path.startswith("/dossiers/"):
            case.path_parameters["id"] = DOSSIER_REF
        else:
            case.path_parameters["id"] = _qualification(app, admin_headers)["id"]
            case.path_parameters["number"] = 1
    if known_ref and "key" in (case.path_parameters or {}):
        case.path_parameters["key"] = QUALIFIED_KEY
    if known_ref and isinstance(case.body, dict):
        _known_values(case.body, evidence_ref, upload,
                      multipart=(case.media_type or "").startswith("multipart/"))
    if current_version and "If-Match" in (case.headers or {}):
        case.headers["If-Match"] = (str(_qualification(app, admin_headers)["version"])
                                    if case.path.startswith("/qualifications/")
                                    else _version(app, admin_headers))
    try:
        case.call_and_validate(app=app, headers=admin_headers, checks=CHECKS)
    finally:
        while opened_files:
            opened_files.pop().close()


def _known_values(body: dict, evidence_ref: str, upload: bytes, *, multipart: bool) -> None:
    """Values that get past the rules often enough to reach the code behind them."""
    if "evidence_ref" in body:
        body["evidence_ref"] = evidence_ref
    if "incident_ref" in body:
        body["incident_ref"] = INCIDENT_REF
    if "occurred_at" in body:  # a custody event between the item's intake and now
        body["occurred_at"] = datetime.now(UTC).isoformat()
    if "provision_key" in body:
        body["provision_key"] = UNQUALIFIED_KEY
    if isinstance(body.get("evidence"), list):
        for citation in body["evidence"][:1]:
            if isinstance(citation, dict) and "ref" in citation:
                citation["ref"] = EVIDENCE_REFS[0]
        del body["evidence"][1:]
    if multipart and "file" not in body:  # an upload: the generator seldom adds a file
        body["file"] = upload


def _version(app, headers) -> str:
    response = app.test_client().get(f"/api/v1/incidents/{INCIDENT_REF}", headers=headers)
    return str(response.get_json()["version"])


def _qualification(app, headers) -> dict:
    response = app.test_client().get(f"/api/v1/incidents/{INCIDENT_REF}/qualifications",
                                     headers=headers)
    return response.get_json()["items"][0]
