"""Dossiers through the API: request (202), follow, list, download, and who may do what."""

import hashlib
import json

import pytest

from ihl_docs.core.models import DossierStatus
from ihl_docs.dossiers import services
from tests.api_support import CASE_REF, INCIDENT_REF
from tests.builders import make_case, make_evidence, make_incident
from tests.dossier_support import fresh

DOSSIERS = f"/api/v1/cases/{CASE_REF}/dossiers"
FIELDS = {"id", "case_ref", "status", "progress", "stage", "audience", "prepared_by",
          "requested_by", "sha256", "size", "page_count", "case_fingerprint", "error",
          "created_at", "started_at", "finished_at", "signed_sha256", "signed_size",
          "audit_seq_at_signing"}


@pytest.fixture
def lawyer(world):
    return world["headers"]["member_legal"]


def request(client, headers, **body):
    """A court dossier of the world's incident (a draft: chosen, since court editions cover
    approved incidents unless told otherwise)."""
    body = {"audience": "court", "incidents": [INCIDENT_REF], **body}
    return client.post(DOSSIERS, json=body, headers=headers)


def test_a_lawyer_requests_a_dossier_follows_it_and_downloads_it(client, app, db, world, lawyer,
                                                                  quick_renderer):
    make_evidence(db, world["case"], world["creator"], app.extensions["ihl_store"],
                  b"%PDF-1.4 report", sensitivity="public")
    response = request(client, lawyer, prepared_by="The legal team")
    assert response.status_code == 202
    ref = f"{CASE_REF}-D001"
    # the worker runs inline in the tests, so it is done by the time the answer is written
    assert response.get_json() == {"id": ref, "status": "done", "progress": 100}
    assert response.headers["Location"] == f"/api/v1/dossiers/{ref}"

    shown = client.get(f"/api/v1/dossiers/{ref}", headers=lawyer).get_json()
    assert set(shown) == FIELDS
    stored = fresh(app, ref)
    assert shown["sha256"] == stored.sha256
    assert shown["page_count"] == 1
    assert shown["case_fingerprint"] == stored.case_fingerprint
    assert (shown["audience"], shown["prepared_by"], shown["error"]) == (
        "court", "The legal team", None)
    assert shown["created_at"].endswith("+00:00")
    assert shown["finished_at"].endswith("+00:00")

    pdf = client.get(f"/api/v1/dossiers/{ref}/pdf", headers=lawyer, buffered=True)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == stored.sha256
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={ref}.pdf"
    assert pdf.headers["ETag"] == f'"{stored.sha256}"'


def test_prepared_by_defaults_to_the_requesters_name(client, app, world, as_role,
                                                     quick_renderer):
    _admin, headers = as_role("admin", name="Ada Admin")
    assert request(client, headers).status_code == 202
    assert fresh(app, f"{CASE_REF}-D001").prepared_by == "Ada Admin"


def test_the_list_is_newest_first_in_the_list_shape(client, app, world, lawyer, quick_renderer):
    for audience in ("internal", "court", "public"):
        assert request(client, lawyer, audience=audience).status_code == 202
    page = client.get(f"{DOSSIERS}?limit=2", headers=world["headers"]["auditor"]).get_json()
    assert page["total"] == 3
    assert "offset=2" in page["next"]
    assert [(d["id"], d["audience"]) for d in page["items"]] == [
        (f"{CASE_REF}-D003", "public"), (f"{CASE_REF}-D002", "court")]
    assert set(page["items"][0]) == FIELDS


def test_a_dossier_not_yet_built_has_no_pdf(client, app, world, lawyer, monkeypatch):
    monkeypatch.setitem(app.extensions["ihl_tasks"], "build_dossier", lambda ref: None)
    accepted = request(client, lawyer).get_json()
    assert accepted == {"id": f"{CASE_REF}-D001", "status": "queued", "progress": 0}
    shown = client.get(f"/api/v1/dossiers/{accepted['id']}", headers=lawyer).get_json()
    assert (shown["status"], shown["sha256"], shown["started_at"]) == ("queued", None, None)
    refused = client.get(f"/api/v1/dossiers/{accepted['id']}/pdf", headers=lawyer)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "conflict"
    assert "not ready" in refused.get_json()["error"]["message"]


def test_a_failed_dossier_reports_why(client, app, world, lawyer, monkeypatch):
    def broken(session, case, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(services, "build_dossier", broken)
    accepted = request(client, lawyer).get_json()
    assert accepted["status"] == "failed"
    shown = client.get(f"/api/v1/dossiers/{accepted['id']}", headers=lawyer).get_json()
    assert shown["error"].startswith("The dossier could not be built")
    assert client.get(f"/api/v1/dossiers/{accepted['id']}/pdf",
                      headers=lawyer).status_code == 409


@pytest.mark.parametrize("who, status", [
    ("member_legal", 202), ("admin", 202), ("member_investigator", 403), ("auditor", 403),
    ("outsider_legal", 404), ("outsider_investigator", 404)])
def test_who_may_request(client, app, world, quick_renderer, who, status):
    response = request(client, world["headers"][who])
    assert response.status_code == status
    assert (fresh_count(app) == 1) == (status == 202)


@pytest.mark.parametrize("who, status", [
    ("member_legal", 200), ("member_investigator", 200), ("auditor", 200), ("admin", 200),
    ("outsider_legal", 404), ("outsider_investigator", 404)])
def test_who_may_see_and_download(client, app, world, lawyer, quick_renderer, who, status):
    ref = request(client, lawyer).get_json()["id"]
    headers = world["headers"][who]
    for url in (DOSSIERS, f"/api/v1/dossiers/{ref}", f"/api/v1/dossiers/{ref}/pdf"):
        assert client.get(url, headers=headers, buffered=True).status_code == status, url
    assert client.get(f"/api/v1/dossiers/{ref}").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"audience": "secret"}, "audience"), ({}, "audience"),
    ({"audience": "court", "prepared_by": "x" * 201}, "prepared_by"),
    ({"audience": "court", "prepared_by": "a\u0007b"}, "prepared_by"),
    ({"audience": "court", "pages": 3}, "pages"),
    ({"audience": "court", "incidents": []}, "incidents"),
    ({"audience": "court", "incidents": ["NK-2020-001-I999"]}, "incidents"),
    ({"audience": "court", "incidents": "NK-2020-001-I001"}, "incidents"),
    ({"audience": "court"}, "incidents")])  # the only incident is a draft: none by default
def test_bad_bodies_are_refused_by_field(client, app, world, lawyer, body, field):
    response = client.post(DOSSIERS, json=body, headers=lawyer)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert fresh_count(app) == 0


def test_unknown_dossiers_are_not_found(client, world, lawyer):
    for ref in ("NK-2020-001-D999", "..", "x" * 300):
        assert client.get(f"/api/v1/dossiers/{ref}", headers=lawyer).status_code == 404
        assert client.get(f"/api/v1/dossiers/{ref}/pdf", headers=lawyer).status_code == 404


def fresh_count(app) -> int:
    from sqlmodel import func, select

    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import Dossier

    with open_session(app.extensions["ihl_engine"], write=False) as session:
        return session.exec(select(func.count()).select_from(Dossier)).one()


def test_status_values_are_the_promised_ones():
    assert [s.value for s in DossierStatus] == ["queued", "running", "done", "failed"]


def test_a_refused_scope_creates_nothing_and_audits_nothing(client, app, world, lawyer, db):
    from sqlmodel import select

    from ihl_docs.core.models import AuditEntry
    other = make_case(db, world["creator"], ref="NK-2020-002")
    foreign = make_incident(db, other, world["creator"])
    response = client.post(DOSSIERS, json={"audience": "court", "incidents": [foreign.ref]},
                           headers=lawyer)
    assert response.status_code == 422
    assert foreign.ref in response.get_json()["error"]["fields"]["incidents"]
    assert fresh_count(app) == 0
    assert db.exec(select(AuditEntry).where(AuditEntry.entity == "dossier")).all() == []


def test_the_chosen_incidents_are_recorded_and_audited(client, app, world, lawyer, db,
                                                       quick_renderer):
    from sqlmodel import select

    from ihl_docs.core.models import AuditEntry
    ref = request(client, lawyer).get_json()["id"]
    assert services.chosen_incidents(fresh(app, ref)) == [INCIDENT_REF]
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "dossier",
                                             AuditEntry.action == "request")).one()
    assert json.loads(entry.change)["after"]["incident_refs"] == f'["{INCIDENT_REF}"]'
