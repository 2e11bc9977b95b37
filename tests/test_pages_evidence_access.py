"""Who reaches which evidence page: every role against its own case and another one's.

Someone who may not see a case gets 404; someone who may see it but not change it (a lawyer of
the case, an auditor) gets 403 on every change, and reads and downloads, each download recorded.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from ihl_docs.cases import services as case_services
from ihl_docs.core.models import AuditEntry, CustodyEvent, Evidence, IncidentEvidence
from ihl_docs.evidence import services as evidence_services
from tests.builders import jpeg_with_exif, login, make_case, make_evidence, make_incident, make_user
from tests.pages_support import custody_form, log_in, token_from, upload_form

COLLECTED = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class World:
    users: dict
    cases: dict
    incidents: dict
    evidence: dict
    spare: dict       # an item of each case not yet linked to its incident


@pytest.fixture
def world(db, app):
    store = app.extensions["ihl_store"]
    investigator, lawyer = make_user(db, "investigator"), make_user(db, "legal")
    outsider = make_user(db, "investigator")
    users = {"investigator": investigator, "legal": lawyer, "auditor": make_user(db, "auditor"),
             "admin": make_user(db, "admin"), "outsider": outsider}
    own, other = make_case(db, investigator), make_case(db, outsider)
    case_services.add_member(db, own, lawyer.email, actor=investigator)
    db.commit()
    incidents = {"own": make_incident(db, own, investigator),
                 "other": make_incident(db, other, outsider)}
    evidence, spare = {}, {}
    for whose, case, owner in (("own", own, investigator), ("other", other, outsider)):
        evidence[whose] = make_evidence(db, case, owner, store, jpeg_with_exif(),
                                        kind="photo", title=f"Photo of the {whose} case",
                                        acquired_at=COLLECTED)
        spare[whose] = make_evidence(db, case, owner, store, f"%PDF-1.4 {whose}".encode())
    return World(users, {"own": own, "other": other}, incidents, evidence, spare)


def _upload(world, whose):
    return upload_form(data=b"%PDF-1.4 a new report", kind="document")


def _link(world, whose):
    return {"incident": world.incidents[whose].ref, "relevance": "Shows the crater."}


def _incident_link(world, whose):
    return {"evidence_ref": world.spare[whose].ref, "relevance": "Casualty list."}


def _custody(world, whose):
    return custody_form(occurred_at="2024-01-02", custodian_from=world.users["investigator"].email)


READS = ["GET /cases/{case}/evidence", "GET /evidence/{evidence}",
         "GET /evidence/{evidence}/thumbnail", "POST /evidence/{evidence}/download"]
WRITE_PAGES = ["GET /cases/{case}/evidence/new", "GET /incidents/{incident}/evidence/link"]
POSTS = {"POST /cases/{case}/evidence/new": _upload,
         "POST /evidence/{evidence}/incidents": _link,
         "POST /incidents/{incident}/evidence/link": _incident_link,
         "POST /evidence/{evidence}/custody": _custody}
ENDPOINTS = READS + WRITE_PAGES + list(POSTS)

# (role, whose case) -> expected status of reads, write pages, changes.
EXPECTED = {
    ("investigator", "own"): (200, 200, 302),
    ("admin", "own"): (200, 200, 302),
    ("admin", "other"): (200, 200, 302),
    ("investigator", "other"): (404, 404, 404),
    ("legal", "other"): (404, 404, 404),
    ("legal", "own"): (200, 403, 403),
    ("auditor", "own"): (200, 403, 403),
    ("auditor", "other"): (200, 403, 403),
}
TABLE = [(role, whose, endpoint, EXPECTED[role, whose][
            0 if endpoint in READS else 1 if endpoint in WRITE_PAGES else 2])
         for role, whose in EXPECTED for endpoint in ENDPOINTS]


def _call(client, world, whose, endpoint):
    method, template = endpoint.split(" ")
    url = template.format(case=world.cases[whose].ref, incident=world.incidents[whose].ref,
                          evidence=world.evidence[whose].ref)
    if method == "GET":
        return client.get(url, buffered=True)
    if endpoint not in POSTS:
        return client.post(url, buffered=True)
    return client.post(url, data=POSTS[endpoint](world, whose), buffered=True,
                       content_type="multipart/form-data")


def _state(db):
    """The records a request may change, and the audit log's length."""
    state = (
        db.exec(select(func.count()).select_from(Evidence)).one(),
        db.exec(select(func.count()).select_from(IncidentEvidence)).one(),
        [(e.evidence_id, e.action, e.actor) for e in db.exec(
            select(CustodyEvent).order_by(CustodyEvent.id))],
        db.exec(select(func.count()).select_from(AuditEntry)).one(),
    )
    db.commit()
    return state


@pytest.mark.parametrize("role, whose, endpoint, status", TABLE,
                         ids=[f"{r}-{w}-{e}" for r, w, e, _ in TABLE])
def test_role_on_case_gets_expected_status(client, db, world, role, whose, endpoint, status):
    login(client, world.users[role])
    before = _state(db)
    response = _call(client, world, whose, endpoint)
    assert response.status_code == status, response.get_data(as_text=True)[-800:]
    after = _state(db)
    if status in (403, 404):
        assert after == before
        text = response.get_data(as_text=True)
        assert world.evidence[whose].title not in text
    elif endpoint == "POST /evidence/{evidence}/download":
        item = world.evidence[whose]
        assert after[2] == before[2] + [(item.id, "accessed", world.users[role].email)]
        assert after[3] == before[3] + 1
    elif endpoint in POSTS:
        assert after[3] > before[3]     # the change happened, and was recorded
    else:
        assert after == before          # reading a page changes nothing


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_visitors_are_sent_to_log_in(client, db, world, endpoint):
    before = _state(db)
    response = _call(client, world, "own", endpoint)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert _state(db) == before


@pytest.mark.parametrize("role", ["legal", "auditor"])
def test_readers_see_no_controls_that_change_anything(client, db, world, role):
    login(client, world.users[role])
    evidence_page = client.get(f"/evidence/{world.evidence['own'].ref}").get_data(as_text=True)
    assert "Download original" in evidence_page
    for text in ("Link to incident", "Record a custody event"):
        assert text not in evidence_page
    for url in (f"/cases/{world.cases['own'].ref}/evidence", f"/cases/{world.cases['own'].ref}",
                f"/incidents/{world.incidents['own'].ref}"):
        page = client.get(url).get_data(as_text=True)
        for text in ("Add evidence", "Attach new evidence", "Link existing evidence"):
            assert text not in page, (url, text)


def test_evidence_one_may_not_see_looks_like_evidence_that_does_not_exist(client, db, world):
    login(client, world.users["investigator"])
    hidden = client.get(f"/evidence/{world.evidence['other'].ref}")
    missing = client.get("/evidence/NO-SUCH-CASE-E0001")
    assert hidden.status_code == missing.status_code == 404

    def page(response, ref):
        """The page with the ref and the (time-stamped) form token taken out."""
        text = response.get_data(as_text=True).replace(ref, "X")
        return re.sub(r'name="csrf_token" value="[^"]+"', "", text)

    assert page(hidden, world.evidence["other"].ref) == page(missing, "NO-SUCH-CASE-E0001")


# With CSRF protection on, as in production -------------------------------------------

def test_upload_without_the_token_is_refused_and_keeps_nothing(protected_client, db, app):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    log_in(protected_client, user)
    url = f"/cases/{case.ref}/evidence/new"
    response = protected_client.post(url, data=upload_form(), content_type="multipart/form-data")
    assert response.status_code == 400
    assert "The form has expired or did not come from this site." in response.get_data(as_text=True)
    assert db.exec(select(Evidence)).all() == []
    db.commit()

    token = token_from(protected_client.get(url))
    response = protected_client.post(url, data={**upload_form(), "csrf_token": token},
                                     content_type="multipart/form-data")
    assert response.status_code == 302
    assert [e.title for e in db.exec(select(Evidence))] == ["Crater in the market square"]
    db.commit()


def test_download_and_custody_forms_carry_the_token(protected_client, db, app):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    item = make_evidence(db, case, user, app.extensions["ihl_store"], acquired_at=COLLECTED)
    log_in(protected_client, user)
    download, custody = f"/evidence/{item.ref}/download", f"/evidence/{item.ref}/custody"
    assert protected_client.post(download).status_code == 400
    assert protected_client.post(custody, data=custody_form(
        occurred_at="2024-01-02", custodian_from=user.email)).status_code == 400
    assert [e.action for e in evidence_services.custody_chain(db, item)] == [
        "collected", "received"]
    db.commit()

    page = protected_client.get(f"/evidence/{item.ref}").get_data(as_text=True)
    [token] = re.findall(rf'action="{download}"[^>]*>\s*<input type="hidden" name="csrf_token" '
                         r'value="([^"]+)"', page)
    response = protected_client.post(download, data={"csrf_token": token}, buffered=True)
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4 report"
    assert 'name="csrf_token"' in page[page.index(f'action="{custody}"'):]
    response = protected_client.post(custody, data={**custody_form(
        occurred_at="2024-01-02", custodian_from=user.email), "csrf_token": token_from(
        protected_client.get(f"/evidence/{item.ref}"))})
    assert response.status_code == 302
    assert [e.action for e in evidence_services.custody_chain(db, item)] == [
        "collected", "transferred", "received", "accessed"]
    db.commit()
