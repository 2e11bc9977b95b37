"""Generated requests against every operation of the OpenAPI document: never a server error,
and every answer as the document describes it (status, content type, body, headers)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from ihl_docs.api.openapi import build_document

from .builders import make_case, make_incident, make_user
from .test_api_support import CASE_REF, INCIDENT_REF, bearer, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


# The document the app serves (test_api_openapi checks they are the same), loaded once; each
# operation then runs as its own test against a fresh app and database.
schema = schemathesis.openapi.from_dict(build_document())


@pytest.fixture
def admin_headers(db):
    """An admin's token, over a database holding case NK-2020-001 with one incident."""
    admin = make_user(db, "admin", email="fuzz-admin@example.org")
    case = make_case(db, admin, ref=CASE_REF)
    make_incident(db, case, admin, responsible_party="Group B")
    make_user(db, "legal", email="fuzz-legal@example.org")
    return bearer(token_for(db, admin))


@schema.parametrize()
@schema.given(known_ref=st.booleans(), current_version=st.booleans())
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_generated_requests(case, known_ref, current_version, app, admin_headers):
    if known_ref and "ref" in (case.path_parameters or {}):
        is_incident = case.path.startswith("/incidents")
        case.path_parameters["ref"] = INCIDENT_REF if is_incident else CASE_REF
    if current_version and "If-Match" in (case.headers or {}):
        case.headers["If-Match"] = _version(app, admin_headers)
    case.call_and_validate(app=app, headers=admin_headers, checks=CHECKS)


def _version(app, headers) -> str:
    response = app.test_client().get(f"/api/v1/incidents/{INCIDENT_REF}", headers=headers)
    return str(response.get_json()["version"])
