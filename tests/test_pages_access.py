"""Who reaches which page: every role against its own case and another one's.

Someone who may not see a case gets 404 (its existence is not revealed); someone who may see
it but not change it gets 403; nothing they send changes anything.
"""

from dataclasses import dataclass

import pytest
from sqlmodel import func, select

from ihl_docs.cases import services as case_services
from ihl_docs.core.models import AuditEntry, Case, CaseMember, Incident
from tests.builders import login, make_case, make_incident, make_user, without_tokens
from tests.pages_support import case_form, incident_form


@dataclass
class World:
    users: dict
    cases: dict       # "own" -> the case the investigator and lawyer belong to, "other"
    incidents: dict


@pytest.fixture
def world(db):
    investigator, lawyer = make_user(db, "investigator"), make_user(db, "legal")
    outsider = make_user(db, "investigator")
    users = {"investigator": investigator, "legal": lawyer, "auditor": make_user(db, "auditor"),
             "admin": make_user(db, "admin"), "outsider": outsider}
    own, other = make_case(db, investigator), make_case(db, outsider)
    case_services.add_member(db, own, lawyer.email, actor=investigator)
    db.commit()
    return World(users, {"own": own, "other": other},
                 {"own": make_incident(db, own, investigator),
                  "other": make_incident(db, other, outsider)})


def _status_form(world, whose):
    return {"to": "submitted", "version": "1"}


def _member_form(world, whose):
    return {"email": world.users["auditor"].email}


def _case_edit_form(world, whose):
    form = case_form(title="Changed title")
    del form["ref"]
    return {**form, "version": "1"}


def _incident_form(world, whose):
    return incident_form(responsible_party="", title="Changed title", version="1")


READS = ["GET /cases/{case}", "GET /cases/{case}/incidents", "GET /incidents/{incident}"]
WRITE_PAGES = ["GET /cases/{case}/edit", "GET /cases/{case}/incidents/new",
               "GET /incidents/{incident}/edit"]
POSTS = {"POST /cases/{case}/edit": _case_edit_form,
         "POST /cases/{case}/members": _member_form,
         "POST /cases/{case}/incidents/new": _incident_form,
         "POST /incidents/{incident}/edit": _incident_form,
         "POST /incidents/{incident}/status": _status_form}
ENDPOINTS = READS + WRITE_PAGES + list(POSTS)

# (role, whose case) -> expected status of reads, write pages, posts.
EXPECTED = {
    ("investigator", "other"): (404, 404, 404),
    ("legal", "other"): (404, 404, 404),
    ("auditor", "own"): (200, 403, 403),
    ("auditor", "other"): (200, 403, 403),
    ("legal", "own"): (200, 403, 403),
}
TABLE = [(role, whose, endpoint, EXPECTED[role, whose][
            0 if endpoint in READS else 1 if endpoint in WRITE_PAGES else 2])
         for role, whose in EXPECTED for endpoint in ENDPOINTS]


def _call(client, world, whose, endpoint):
    method, template = endpoint.split(" ")
    url = template.format(case=world.cases[whose].ref, incident=world.incidents[whose].ref)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=POSTS[endpoint](world, whose))


def _state(db):
    """Everything a refused request must leave as it was."""
    state = (
        [(c.ref, c.title, c.version) for c in db.exec(select(Case).order_by(Case.id)
                                                         .execution_options(populate_existing=True))],
        [(i.ref, i.title, i.workflow_status, i.version)
         for i in db.exec(select(Incident).order_by(Incident.id)
                          .execution_options(populate_existing=True))],
        db.exec(select(func.count()).select_from(CaseMember)).one(),
        db.exec(select(func.count()).select_from(AuditEntry)).one(),
    )
    db.commit()
    return state


@pytest.mark.parametrize("role, whose, endpoint, status", TABLE,
                         ids=[f"{r}-{w}-{e}" for r, w, e, _ in TABLE])
def test_role_on_case_gets_expected_status_and_changes_nothing(client, db, world, role, whose,
                                                                endpoint, status):
    login(client, world.users[role])
    before = _state(db)
    response = _call(client, world, whose, endpoint)
    assert response.status_code == status
    assert _state(db) == before
    if status == 404:
        text = response.get_data(as_text=True)
        assert world.cases[whose].title not in text
        assert world.incidents[whose].title not in text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_visitors_are_sent_to_log_in(client, db, world, endpoint):
    before = _state(db)
    response = _call(client, world, "own", endpoint)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert _state(db) == before


@pytest.mark.parametrize("role", ["investigator", "admin"])
@pytest.mark.parametrize("endpoint", list(POSTS))
def test_those_allowed_do_get_through(client, db, world, role, endpoint):
    """The same requests succeed for a member investigator and an admin: the table is not vacuous."""
    login(client, world.users[role])
    audit_entries = _state(db)[3]
    response = _call(client, world, "own", endpoint)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _state(db)[3] == audit_entries + 1   # the change happened, and was recorded


def test_an_incident_one_may_not_see_looks_like_one_that_does_not_exist(client, db, world):
    login(client, world.users["investigator"])
    hidden = client.get(f"/incidents/{world.incidents['other'].ref}")
    missing = client.get("/incidents/NO-SUCH-CASE-I001")
    assert hidden.status_code == missing.status_code == 404
    assert "that you can see" in hidden.get_data(as_text=True)
    assert without_tokens(hidden.get_data(as_text=True)).replace(
        world.incidents["other"].ref, "X") == \
        without_tokens(missing.get_data(as_text=True)).replace("NO-SUCH-CASE-I001", "X")


@pytest.mark.parametrize("role, status", [("investigator", 403), ("legal", 403),
                                          ("auditor", 403), ("admin", 200)])
@pytest.mark.parametrize("path", ["/admin/users/", "/admin/users/new"])
def test_only_admins_manage_users(client, db, world, role, status, path):
    login(client, world.users[role])
    assert client.get(path).status_code == status
    before = _state(db)
    response = client.post("/admin/users/new", data={
        "email": "intruder@example.org", "role": "admin", "password": "a long enough passphrase"})
    assert response.status_code == (302 if role == "admin" else 403)
    if role != "admin":
        assert _state(db) == before


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/users/new", "/", "/incidents",
                                  "/cases/new"])
def test_anonymous_visitors_are_sent_to_log_in_everywhere(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["legal", "auditor"])
def test_roles_without_write_rights_see_no_edit_controls(client, db, world, role):
    login(client, world.users[role])
    case_page = client.get(f"/cases/{world.cases['own'].ref}").get_data(as_text=True)
    incident_page = client.get(f"/incidents/{world.incidents['own'].ref}").get_data(as_text=True)
    for text in ("Edit case", "File an incident", "Add member"):
        assert text not in case_page
    assert "Edit incident" not in incident_page
    assert "Submit for legal review" not in incident_page


@pytest.mark.parametrize("role", ["legal", "auditor"])
def test_roles_that_do_not_open_cases_cannot_post_one(client, db, world, role):
    login(client, world.users[role])
    before = _state(db)
    assert client.post("/cases/new", data=case_form()).status_code == 403
    assert _state(db) == before


def test_a_lawyer_without_cases_sees_no_incidents(client, db, world):
    login(client, make_user(db, "legal"))
    response = client.get("/incidents")
    assert response.status_code == 200
    assert "0 incidents." in response.get_data(as_text=True)
    assert world.incidents["own"].ref not in response.get_data(as_text=True)
