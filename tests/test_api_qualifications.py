"""The catalogue and qualifications through the API: browsing provisions, qualifying incidents,
findings per element with cited evidence, If-Match, bad input and who may do what."""

import pytest

from ihl_docs.evidence import services as evidence_services
from tests.api_support import INCIDENT_REF
from tests.builders import load_catalogue, make_case, make_evidence, make_incident, qualify

KEY = "rs-8-2-b-i"
QUALIFICATIONS = f"/api/v1/incidents/{INCIDENT_REF}/qualifications"


@pytest.fixture
def catalogue(db, request):
    """The `world`, over a database that holds the legal catalogue (loaded first, into the new
    database: see catalogue_copy.py)."""
    load_catalogue(db)
    return request.getfixturevalue("world")


@pytest.fixture
def qualified(db, app, catalogue):
    """The incident qualified under rs-8-2-b-i, with a photo linked to it and one that is not."""
    world, store = catalogue, app.extensions["ihl_store"]
    creator, incident = world["creator"], world["incident"]
    linked = make_evidence(db, world["case"], creator, store, b"%PDF-1.4 linked")
    unlinked = make_evidence(db, world["case"], creator, store, b"%PDF-1.4 unlinked")
    evidence_services.link_evidence(db, incident, linked, "", actor=creator)
    db.commit()
    qualification = qualify(db, incident, _admin(db), KEY)
    return {**world, "qualification_id": qualification.id, "linked": linked.ref,
            "unlinked": unlinked.ref}


def _admin(db):
    from sqlmodel import select

    from ihl_docs.core.models import Role, User
    return db.exec(select(User).where(User.role == Role.admin)).first()


def _element_url(qid, number=1):
    return f"/api/v1/qualifications/{qid}/elements/{number}"


# ---- provisions -------------------------------------------------------------------------------

def test_list_provisions_pages_and_filters(client, catalogue):
    headers = catalogue["headers"]["auditor"]
    response = client.get("/api/v1/provisions?limit=10", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] >= 100
    assert len(body["items"]) == 10
    assert "offset=10" in body["next"]
    first = body["items"][0]
    assert {"key", "instrument", "article", "title", "applies_to", "elements"} <= set(first)
    everything = client.get("/api/v1/provisions?limit=500", headers=headers).get_json()
    assert everything["next"] is None
    assert len(everything["items"]) == everything["total"]
    assert any(p["elements"] for p in everything["items"])
    niac = client.get("/api/v1/provisions?applies_to=NIAC&limit=500", headers=headers).get_json()
    assert 0 < niac["total"] < everything["total"]
    assert {p["applies_to"] for p in niac["items"]} <= {"NIAC", "both"}
    by_instrument = client.get("/api/v1/provisions", headers=headers,
                               query_string={"instrument": "AP I", "limit": 500}).get_json()
    assert by_instrument["total"] > 0
    assert {p["instrument"] for p in by_instrument["items"]} == {"AP I"}
    category = everything["items"][0]["category"]
    by_category = client.get("/api/v1/provisions", headers=headers,
                             query_string={"category": category, "limit": 500}).get_json()
    assert {p["category"] for p in by_category["items"]} == {category}
    found = client.get("/api/v1/provisions?q=8-2-b-i", headers=headers).get_json()
    assert KEY in {p["key"] for p in found["items"]}


@pytest.mark.parametrize("query", ["applies_to=both", "limit=0", "limit=501", "offset=-1",
                                   "colour=red"])
def test_bad_provision_queries(client, catalogue, query):
    response = client.get(f"/api/v1/provisions?{query}",
                          headers=catalogue["headers"]["admin"])
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_show_a_provision(client, catalogue):
    response = client.get(f"/api/v1/provisions/{KEY}",
                          headers=catalogue["headers"]["outsider_investigator"])
    assert response.status_code == 200
    provision = response.get_json()
    assert provision["key"] == KEY
    assert provision["elements"]
    assert [e["number"] for e in provision["elements"]] == list(
        range(1, len(provision["elements"]) + 1))
    assert response.headers["ETag"] == f'"{provision["version"]}"'


@pytest.mark.parametrize("key", ["no-such-provision", "..", "a%20b"])
def test_unknown_provision_is_a_json_404(client, catalogue, key):
    response = client.get(f"/api/v1/provisions/{key}", headers=catalogue["headers"]["admin"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


def test_provisions_need_a_token(client, catalogue):
    assert client.get("/api/v1/provisions").status_code == 401
    assert client.get(f"/api/v1/provisions/{KEY}").status_code == 401


# ---- qualifications -----------------------------------------------------------------------------

def test_qualify_an_incident_and_list(client, catalogue):
    headers = catalogue["headers"]["member_legal"]
    response = client.post(QUALIFICATIONS, headers=headers, json={
        "provision_key": KEY, "assessment": "probable", "analysis": " Shells hit homes. "})
    assert response.status_code == 201, response.get_json()
    qualification = response.get_json()
    assert isinstance(qualification["id"], int)
    assert qualification["provision_key"] == KEY
    assert qualification["assessment"] == "probable"
    assert qualification["analysis"] == "Shells hit homes."
    assert qualification["version"] == 1
    assert qualification["elements"]
    assert all(
        set(e) == {"number", "text", "kind", "status", "note", "evidence"}
        and e["status"] == "not_assessed" and e["evidence"] == []
        for e in qualification["elements"])
    assert isinstance(qualification["warnings"], list)
    for warning in qualification["warnings"]:
        assert set(warning) == {"code", "message", "question", "warning", "facts", "basis",
                                "suggested_provisions"}
    listed = client.get(QUALIFICATIONS, headers=catalogue["headers"]["auditor"]).get_json()
    assert listed["total"] == 1
    assert listed["next"] is None
    assert listed["items"] == [qualification]


def test_list_pages(client, db, catalogue):
    for key in (KEY, "rs-8-2-b-iv", "rs-8-2-b-ix"):
        qualify(db, catalogue["incident"], _admin(db), key)
    first = client.get(QUALIFICATIONS + "?limit=2", headers=catalogue["headers"]["admin"])
    body = first.get_json()
    assert body["total"] == 3
    assert len(body["items"]) == 2
    assert "offset=2" in body["next"]
    rest = client.get(body["next"], headers=catalogue["headers"]["admin"]).get_json()
    assert [q["provision_key"] for q in rest["items"]] == ["rs-8-2-b-ix"]


def test_unknown_provision_key_is_422(client, catalogue):
    response = client.post(QUALIFICATIONS, headers=catalogue["headers"]["admin"],
                           json={"provision_key": "no-such-provision", "assessment": "alleged"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"provision_key"}


def test_duplicate_qualification_is_409(client, catalogue):
    body = {"provision_key": KEY, "assessment": "alleged", "analysis": ""}
    headers = catalogue["headers"]["admin"]
    assert client.post(QUALIFICATIONS, headers=headers, json=body).status_code == 201
    response = client.post(QUALIFICATIONS, headers=headers, json=body)
    assert response.status_code == 409
    assert "provision_key" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"provision_key": KEY, "assessment": "certain"}, "assessment"),
    ({"provision_key": KEY}, "assessment"),
    ({"assessment": "alleged"}, "provision_key"),
    ({"provision_key": KEY, "assessment": "alleged", "colour": "red"}, "colour"),
    ({"provision_key": 7, "assessment": "alleged"}, "provision_key"),
])
def test_bad_qualification_bodies(client, catalogue, body, field):
    response = client.post(QUALIFICATIONS, headers=catalogue["headers"]["admin"], json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_unknown_incident_is_404(client, catalogue):
    response = client.post("/api/v1/incidents/NK-2020-001-I999/qualifications",
                           headers=catalogue["headers"]["admin"],
                           json={"provision_key": KEY, "assessment": "alleged"})
    assert response.status_code == 404


@pytest.mark.parametrize("who, read, write", [
    ("member_legal", 200, 201), ("admin", 200, 201), ("member_investigator", 200, 403),
    ("auditor", 200, 403), ("outsider_legal", 404, 404), ("outsider_investigator", 404, 404),
])
def test_qualification_permissions(client, catalogue, who, read, write):
    headers = catalogue["headers"][who]
    assert client.get(QUALIFICATIONS, headers=headers).status_code == read
    response = client.post(QUALIFICATIONS, headers=headers,
                           json={"provision_key": KEY, "assessment": "alleged"})
    assert response.status_code == write
    assert client.get(QUALIFICATIONS, headers=catalogue["headers"]["admin"]).get_json()[
        "total"] == (1 if write == 201 else 0)


# ---- findings per element ---------------------------------------------------------------------

def test_record_a_finding(client, qualified):
    qid = qualified["qualification_id"]
    response = client.put(_element_url(qid, 1), headers=qualified["headers"]["member_legal"],
                          json={"status": "supported", "note": "Crater analysis",
                                "evidence": [{"ref": qualified["linked"], "stance": "supports"}]})
    assert response.status_code == 200, response.get_json()
    qualification = response.get_json()
    assert qualification["id"] == qid
    assert qualification["version"] == 2
    assert response.headers["ETag"] == '"2"'
    element = qualification["elements"][0]
    assert element["number"] == 1
    assert element["status"] == "supported"
    assert element["note"] == "Crater analysis"
    assert element["evidence"] == [{"ref": qualified["linked"], "stance": "supports"}]
    # the evidence list replaces the old one; If-Match with the current version is accepted
    response = client.put(_element_url(qid, 1),
                          headers={**qualified["headers"]["admin"], "If-Match": '"2"'},
                          json={"status": "contested"})
    assert response.status_code == 200, response.get_json()
    element = response.get_json()["elements"][0]
    assert element["status"] == "contested"
    assert element["evidence"] == []
    assert response.get_json()["version"] == 3


def test_supported_without_supporting_evidence_is_422_and_changes_nothing(client, qualified):
    qid, headers = qualified["qualification_id"], qualified["headers"]["member_legal"]
    for evidence in ([], [{"ref": qualified["linked"], "stance": "context"}],
                     [{"ref": qualified["linked"], "stance": "contradicts"}]):
        response = client.put(_element_url(qid, 1), headers=headers,
                              json={"status": "supported", "evidence": evidence})
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert set(error["fields"]) == {"evidence"}
        assert "supported" in error["fields"]["evidence"]
        assert "supports" in error["fields"]["evidence"]
    listed = client.get(QUALIFICATIONS, headers=headers).get_json()["items"][0]
    assert (listed["version"], listed["elements"][0]["status"]) == (1, "not_assessed")


def test_stale_if_match_is_409_and_changes_nothing(client, qualified):
    qid, headers = qualified["qualification_id"], qualified["headers"]["admin"]
    assert client.put(_element_url(qid), headers=headers,
                      json={"status": "contested"}).status_code == 200
    response = client.put(_element_url(qid), headers={**headers, "If-Match": "1"},
                          json={"status": "not_met"})
    assert response.status_code == 409
    assert response.get_json()["error"]["current_version"] == 2
    listed = client.get(QUALIFICATIONS, headers=headers).get_json()["items"][0]
    assert listed["elements"][0]["status"] == "contested"
    assert listed["version"] == 2


def test_malformed_if_match_is_400(client, qualified):
    response = client.put(_element_url(qualified["qualification_id"]),
                          headers={**qualified["headers"]["admin"], "If-Match": "latest"},
                          json={"status": "supported"})
    assert response.status_code == 400


@pytest.mark.parametrize("number", [0, 999, -1, "x"])
def test_element_the_provision_lacks_is_422(client, qualified, number):
    response = client.put(_element_url(qualified["qualification_id"], number),
                          headers=qualified["headers"]["admin"], json={"status": "supported"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"number"}


def test_evidence_not_linked_is_422(client, qualified):
    response = client.put(_element_url(qualified["qualification_id"]),
                          headers=qualified["headers"]["admin"],
                          json={"status": "supported",
                                "evidence": [{"ref": qualified["unlinked"], "stance": "supports"}]})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"evidence"}


def test_evidence_of_another_case_is_422(client, db, app, qualified):
    admin = _admin(db)
    other = make_case(db, admin, ref="NK-2020-002")
    make_incident(db, other, admin)
    item = make_evidence(db, other, admin, app.extensions["ihl_store"], b"%PDF-1.4 other")
    for ref in (item.ref, "NK-2020-001-E9999"):
        response = client.put(_element_url(qualified["qualification_id"]),
                              headers=qualified["headers"]["admin"],
                              json={"status": "supported",
                                    "evidence": [{"ref": ref, "stance": "context"}]})
        assert response.status_code == 422
        assert set(response.get_json()["error"]["fields"]) == {"evidence"}


@pytest.mark.parametrize("body, field", [
    ({"status": "proven"}, "status"),
    ({}, "status"),
    ({"status": "supported", "evidence": [{"ref": "X", "stance": "maybe"}]}, "evidence.0.stance"),
    ({"status": "supported", "evidence": "NK-2020-001-E0001"}, "evidence"),
    ({"status": "supported", "colour": "red"}, "colour"),
])
def test_bad_finding_bodies(client, qualified, body, field):
    response = client.put(_element_url(qualified["qualification_id"]),
                          headers=qualified["headers"]["admin"], json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("qid", ["999999", "0", "99999999999999999999", "abc"])
def test_unknown_qualification_is_404(client, qualified, qid):
    response = client.put(f"/api/v1/qualifications/{qid}/elements/1",
                          headers=qualified["headers"]["admin"], json={"status": "supported"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


@pytest.mark.parametrize("who, status", [
    ("member_legal", 200), ("admin", 200), ("member_investigator", 403), ("auditor", 403),
    ("outsider_legal", 404), ("outsider_investigator", 404),
])
def test_finding_permissions(client, qualified, who, status):
    response = client.put(_element_url(qualified["qualification_id"]),
                          headers=qualified["headers"][who], json={"status": "contested"})
    assert response.status_code == status


def test_qualifications_need_a_token(client, qualified):
    assert client.get(QUALIFICATIONS).status_code == 401
    assert client.put(_element_url(qualified["qualification_id"]),
                      json={"status": "supported"}).status_code == 401
