"""Dossier pages: the case's list with the request form, a dossier's progress and result, the
PDF download, and who reaches which of them."""

import hashlib
import re
from dataclasses import dataclass

import pytest
from sqlmodel import func, select

from ihl_docs import create_app
from ihl_docs.cases import services as case_services
from ihl_docs.core.models import AuditEntry, Dossier, DossierStatus, Incident
from ihl_docs.dossiers import services
from ihl_docs.incidents.services import change_status
from tests.builders import (
    PASSWORD,
    approve_incident,
    assert_hidden_looks_missing,
    login,
    make_case,
    make_evidence,
    make_incident,
    make_user,
)
from tests.dossier_support import fresh, make_dossier
from tests.pages_support import FormPage, confirmed_request, text_of
from tests.tampering import alter_one_byte


@dataclass
class World:
    users: dict
    cases: dict      # "own": the investigator's and lawyer's case; "other": the outsider's
    dossiers: dict   # a done dossier of each


@pytest.fixture
def world(db, app, quick_renderer):
    investigator = make_user(db, "investigator", name="Ina Vestigator")
    lawyer = make_user(db, "legal", name="Lena Lawyer")
    outsider = make_user(db, "investigator")
    admin = make_user(db, "admin", name="Ada Admin")
    users = {"investigator": investigator, "legal": lawyer, "auditor": make_user(db, "auditor"),
             "admin": admin, "outsider": outsider}
    own, other = make_case(db, investigator), make_case(db, outsider)
    case_services.add_member(db, own, lawyer.email, actor=investigator)
    db.commit()
    make_evidence(db, own, investigator, app.extensions["ihl_store"], b"%PDF-1.4 field report")
    for case in (own, other):  # a dossier covers at least one incident; court, approved ones
        approve_incident(db, make_incident(db, case, admin), admin)
    return World(users, {"own": own, "other": other},
                 {"own": make_dossier(db, app, own, lawyer),
                  "other": make_dossier(db, app, other, admin)})


def state(db):
    """Everything a refused request must leave as it was."""
    result = (db.exec(select(func.count()).select_from(Dossier)).one(),
              db.exec(select(func.count()).select_from(AuditEntry)).one())
    db.commit()
    return result


READS = ["GET /cases/{case}/dossiers", "GET /dossiers/{dossier}", "GET /dossiers/{dossier}/pdf"]
POST = "POST /cases/{case}/dossiers"
ENDPOINTS = READS + [POST]

# (role, whose case) -> expected status of the reads, and of the request.
EXPECTED = {
    ("investigator", "own"): (200, 403),
    ("investigator", "other"): (404, 404),
    ("legal", "own"): (200, 302),
    ("legal", "other"): (404, 404),
    ("auditor", "own"): (200, 403),
    ("auditor", "other"): (200, 403),
    ("admin", "own"): (200, 302),
    ("admin", "other"): (200, 302),
}
TABLE = [(role, whose, endpoint, EXPECTED[role, whose][endpoint == POST])
         for role, whose in EXPECTED for endpoint in ENDPOINTS]


def call(client, world, whose, endpoint):
    method, template = endpoint.split(" ")
    url = template.format(case=world.cases[whose].ref, dossier=world.dossiers[whose].ref)
    if method == "GET":
        return client.get(url, buffered=True)  # a PDF is read whole and closed, as a server does
    return confirmed_request(client, url, {"audience": "court", "prepared_by": "The legal team"})


@pytest.mark.parametrize("role, whose, endpoint, status", TABLE,
                         ids=[f"{r}-{w}-{e}" for r, w, e, _ in TABLE])
def test_role_on_case_gets_expected_status(client, db, world, role, whose, endpoint, status):
    login(client, world.users[role])
    before = state(db)
    response = call(client, world, whose, endpoint)
    assert response.status_code == status
    if status == 302:
        assert state(db)[0] == before[0] + 1
    else:
        assert state(db) == before
    if status == 404:
        assert world.cases[whose].title not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_visitors_are_sent_to_log_in(client, db, world, endpoint):
    before = state(db)
    response = call(client, world, "own", endpoint)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert state(db) == before


def test_a_dossier_one_may_not_see_looks_like_one_that_does_not_exist(client, db, world):
    login(client, world.users["legal"])
    ref = world.dossiers["other"].ref
    assert_hidden_looks_missing(client, f"/dossiers/{ref}", ref,
                                "/dossiers/NO-SUCH-CASE-D001", "NO-SUCH-CASE-D001")


@pytest.mark.parametrize("role, offered", [("legal", True), ("admin", True),
                                           ("investigator", False), ("auditor", False)])
def test_the_case_page_links_the_dossiers_and_the_form_is_for_lawyers_and_admins(
        client, world, role, offered):
    login(client, world.users[role])
    case = world.cases["own"]
    case_page = client.get(f"/cases/{case.ref}").get_data(as_text=True)
    assert f'href="/cases/{case.ref}/dossiers"' in case_page
    listing = client.get(f"/cases/{case.ref}/dossiers")
    text = text_of(listing)
    dossier = world.dossiers["own"]
    assert dossier.ref in text
    assert "Internal" in text
    assert "Lena Lawyer" in text
    assert dossier.sha256[:12] in text
    assert "Done" in text
    assert ("Generate a dossier" in text) == offered
    if offered:
        form = FormPage(listing.get_data(as_text=True))
        expected = world.users[role].name
        assert form.value("prepared_by") == expected
        assert form.value("audience") == "internal"


@pytest.fixture
def real_renderer(monkeypatch):
    from ihl_docs.dossiers import build

    monkeypatch.setattr(services, "build_dossier", build.build_dossier)


def test_a_lawyer_generates_a_dossier_and_downloads_the_pdf(client, db, app, world,
                                                           real_renderer):
    """The real renderer, run inline as the worker would run it."""
    login(client, world.users["legal"])
    case = world.cases["own"]
    response = confirmed_request(client, f"/cases/{case.ref}/dossiers",
                                 {"audience": "court", "prepared_by": ""})
    ref = f"{case.ref}-D002"
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dossiers/{ref}"
    dossier = fresh(app, ref)
    assert dossier.status == DossierStatus.done, dossier.error
    assert (dossier.audience, dossier.prepared_by) == ("court", "Lena Lawyer")
    page = client.get(f"/dossiers/{ref}")
    text = text_of(page)
    assert 'http-equiv="refresh"' not in page.get_data(as_text=True)
    for shown in (dossier.sha256, dossier.case_fingerprint, f"Download {ref}.pdf", "Court"):
        assert shown in text
    pdf = client.get(f"/dossiers/{ref}/pdf", buffered=True)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={ref}.pdf"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.data.startswith(b"%PDF")
    assert hashlib.sha256(pdf.data).hexdigest() == dossier.sha256


def test_progress_is_shown_and_the_page_refreshes_while_the_dossier_is_being_built(
        client, db, app, world):
    login(client, world.users["auditor"])
    queued = make_dossier(db, app, world.cases["own"], world.users["legal"], run=False)
    page = client.get(f"/dossiers/{queued.ref}")
    assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
    assert "Waiting for the job worker" in text_of(page)
    row = db.get(Dossier, queued.id)
    row.status, row.stage, row.progress = DossierStatus.running, "rendering incidents", 40
    db.add(row)
    db.commit()
    page = client.get(f"/dossiers/{queued.ref}")
    body = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in body
    assert "Rendering incidents: 40 %" in text_of(page)
    assert re.search(r'<progress max="100" value="40"', body)
    assert client.get(f"/dossiers/{queued.ref}/pdf").status_code == 409
    assert "40 %" in text_of(client.get(f"/cases/{world.cases['own'].ref}/dossiers"))


def test_a_failed_dossier_shows_why_and_offers_no_pdf(client, db, app, world, monkeypatch):
    def broken(session, case, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "build_dossier", broken)
    login(client, world.users["legal"])
    response = client.post(f"/cases/{world.cases['own'].ref}/dossiers",
                           data={"audience": "internal"}, follow_redirects=True)
    text = text_of(response)
    assert "could not be generated" in text
    assert "internal error occurred" in text
    assert "Download" not in text
    assert "boom" not in text
    ref = f"{world.cases['own'].ref}-D002"
    refused = client.get(f"/dossiers/{ref}/pdf")
    assert refused.status_code == 409
    assert "failed" in text_of(refused)


def test_a_dossier_that_cannot_be_queued_says_so(client, db, app, world, monkeypatch):
    def unreachable(ref):
        raise ConnectionError("queue down")

    monkeypatch.setitem(app.extensions["ihl_tasks"], "build_dossier", unreachable)
    login(client, world.users["legal"])
    client.post(f"/cases/{world.cases['own'].ref}/dossiers", data={"audience": "internal"})
    dossier = fresh(app, f"{world.cases['own'].ref}-D002")
    assert dossier.status == "failed"
    assert dossier.error == services.NOT_QUEUED


@pytest.mark.parametrize("form, field", [({"audience": "secret"}, "audience"),
                                         ({"audience": "court", "prepared_by": "x" * 201},
                                          "prepared_by")])
def test_a_bad_request_form_is_shown_again_with_the_error(client, db, world, form, field):
    login(client, world.users["legal"])
    before = state(db)
    response = client.post(f"/cases/{world.cases['own'].ref}/dossiers", data=form)
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors.get(field)
    assert state(db) == before


def test_an_altered_stored_pdf_is_not_served(client, app, world):
    login(client, world.users["legal"])
    dossier = world.dossiers["own"]
    alter_one_byte(app.extensions["ihl_store"].path_for(dossier.sha256), at=3)
    response = client.get(f"/dossiers/{dossier.ref}/pdf")
    assert response.status_code == 409
    assert "no longer matches its SHA-256" in text_of(response)


def test_the_request_form_needs_its_csrf_token(app_config, db, tmp_path, monkeypatch,
                                               quick_renderer):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "protected-instance"))
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = application.test_client()
    try:
        admin = make_user(db, "admin")
        case = make_case(db, admin, ref="CSRF-1")
        make_incident(db, case, admin)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          page.get_data(as_text=True)).group(1)
        client.post("/login", data={"email": admin.email, "password": PASSWORD,
                                    "csrf_token": token})
        before = state(db)
        refused = client.post(f"/cases/{case.ref}/dossiers", data={"audience": "internal"})
        assert refused.status_code == 400
        assert state(db) == before
        listing = client.get(f"/cases/{case.ref}/dossiers").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', listing).group(1)
        accepted = client.post(f"/cases/{case.ref}/dossiers",
                               data={"audience": "internal", "csrf_token": token})
        assert accepted.status_code == 302
        assert state(db)[0] == before[0] + 1
    finally:
        application.extensions["ihl_engine"].dispose()


def test_a_dossier_of_a_case_without_incidents_is_refused_before_anything_is_recorded(
        client, db, world):
    empty = make_case(db, world.users["investigator"], ref="NK-2020-077")
    login(client, world.users["admin"])
    before = state(db)
    response = client.post(f"/cases/{empty.ref}/dossiers", data={"audience": "internal"})
    assert response.status_code == 422
    assert "has no incident yet" in FormPage(response.get_data(as_text=True)).errors["incidents"]
    assert state(db) == before


@pytest.mark.parametrize("form, words", [
    ({"audience": "court"}, "choose the incidents"),  # its only incident is a draft
    ({"audience": "internal", "incidents": "NK-1999-001-I001"}, "NK-1999-001-I001")])
def test_a_request_of_no_incident_or_an_unknown_one_is_refused_on_its_field(
        client, db, world, form, words):
    make_incident(db, world.cases["own"], world.users["investigator"])
    for incident in db.exec(select(Incident).where(Incident.case_id == world.cases["own"].id,
                                                   Incident.workflow_status == "approved")):
        change_status(db, incident, "in_legal_review", expected_version=incident.version,
                      actor=world.users["admin"])  # reopened: no approved incident is left
    db.commit()
    login(client, world.users["legal"])
    before = state(db)
    response = client.post(f"/cases/{world.cases['own'].ref}/dossiers", data=form)
    assert response.status_code == 422
    assert words in FormPage(response.get_data(as_text=True)).errors["incidents"]
    assert state(db) == before


def test_the_lawyer_chooses_the_incidents_on_the_form(client, db, app, world):
    incident = make_incident(db, world.cases["own"], world.users["investigator"])
    login(client, world.users["legal"])
    response = confirmed_request(client, f"/cases/{world.cases['own'].ref}/dossiers",
                                 {"audience": "court", "incidents": f"{incident.ref}, "})
    assert response.status_code == 302
    dossier = fresh(app, f"{world.cases['own'].ref}-D002")
    assert services.chosen_incidents(dossier) == [incident.ref]
