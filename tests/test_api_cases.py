"""Cases through the API: listing what one may see, opening, showing, adding members."""

import pytest
from sqlmodel import select

from ihl_docs.core.models import AuditEntry
from tests.api_support import CASE_REF, INCIDENT_REF
from tests.builders import make_case

NEW_CASE = {
    "ref": "ua-2022-014", "title": "Strikes on the power grid", "summary": "Winter 2022.",
    "conflict_classification": "international",
    "parties": [{"name": "State A armed forces", "kind": "state", "state_code": "ukr"},
                {"name": "Group B", "kind": "non-state", "state_code": None}],
}


def test_open_a_case(client, db, as_role):
    user, headers = as_role("investigator")
    response = client.post("/api/v1/cases", headers=headers, json=NEW_CASE)
    assert response.status_code == 201
    case = response.get_json()
    assert case["ref"] == "UA-2022-014"
    no_attribution = {"attributed_state": None, "attribution": None, "attribution_note": "",
                      "attribution_evidence": []}
    assert case["parties"] == [
        {"name": "Group B", "kind": "non-state", "state_code": None} | no_attribution,
        {"name": "State A armed forces", "kind": "state", "state_code": "UKR"} | no_attribution,
    ]
    assert case["members"] == [user.email]
    assert case["incidents"] == []
    assert case["evidence"] == []
    assert case["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert case["created_at"].endswith("+00:00")
    entries = db.exec(select(AuditEntry).where(AuditEntry.entity == "case",
                                               AuditEntry.entity_id == "UA-2022-014")).all()
    assert len(entries) == 1


def test_a_case_ref_is_used_once(client, db, world):
    response = client.post("/api/v1/cases", headers=world["headers"]["admin"],
                           json={**NEW_CASE, "ref": CASE_REF})
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"ref": "already in use"}


def test_repeated_party_names_are_refused(client, as_role):
    _, headers = as_role("admin")
    parties = [{"name": "Group B", "kind": "non-state"}] * 2
    response = client.post("/api/v1/cases", headers=headers, json={**NEW_CASE, "parties": parties})
    assert response.status_code == 422
    assert "parties" in response.get_json()["error"]["fields"]


def test_show_a_case_with_its_incident_refs(client, world):
    response = client.get(f"/api/v1/cases/{CASE_REF}", headers=world["headers"]["member_legal"])
    assert response.status_code == 200
    case = response.get_json()
    assert case["incidents"] == [INCIDENT_REF]
    assert case["evidence"] == []


@pytest.mark.parametrize("who, expected", [
    ("member_investigator", [CASE_REF]), ("member_legal", [CASE_REF]),
    ("outsider_investigator", []), ("outsider_legal", []),
    ("admin", [CASE_REF]), ("auditor", [CASE_REF]),
])
def test_the_case_list_holds_only_visible_cases(client, world, who, expected):
    response = client.get("/api/v1/cases", headers=world["headers"][who])
    assert response.status_code == 200
    body = response.get_json()
    assert [c["ref"] for c in body["items"]] == expected
    assert body["total"] == len(expected)
    assert body["next"] is None


def test_the_case_list_pages_with_next_links(client, db, as_role):
    user, headers = as_role("investigator")
    for number in range(5):
        make_case(db, user, ref=f"PG-{number:03d}")
    seen, url = [], "/api/v1/cases?limit=2"
    while url:
        body = client.get(url, headers=headers).get_json()
        assert body["total"] == 5
        assert len(body["items"]) <= 2
        seen += [c["ref"] for c in body["items"]]
        url = body["next"]
        assert url is None or url.startswith("http://localhost/api/v1/cases?limit=2&offset=")
    assert seen == [f"PG-{n:03d}" for n in range(5)]


def test_the_default_page_is_fifty(client, db, as_role):
    user, headers = as_role("investigator")
    for number in range(51):
        make_case(db, user, ref=f"PG-{number:03d}", parties=[])
    body = client.get("/api/v1/cases", headers=headers).get_json()
    assert len(body["items"]) == 50
    assert body["total"] == 51
    assert body["next"].endswith("offset=50")


def test_a_member_investigator_adds_a_member(client, db, world, as_role):
    newcomer, newcomer_headers = as_role("legal")
    assert client.get(f"/api/v1/cases/{CASE_REF}", headers=newcomer_headers).status_code == 404
    response = client.post(f"/api/v1/cases/{CASE_REF}/members",
                           headers=world["headers"]["member_investigator"],
                           json={"email": newcomer.email.upper()})
    assert response.status_code == 201
    assert response.get_json() == {"case_ref": CASE_REF, "email": newcomer.email,
                                   "name": "", "role": "legal"}
    assert client.get(f"/api/v1/cases/{CASE_REF}", headers=newcomer_headers).status_code == 200


def test_adding_a_member_twice_or_an_unknown_account(client, world):
    headers = world["headers"]["admin"]
    creator = world["creator"].email
    again = client.post(f"/api/v1/cases/{CASE_REF}/members", headers=headers,
                        json={"email": creator})
    assert again.status_code == 409
    assert again.get_json()["error"]["fields"] == {"email": "already a member"}
    unknown = client.post(f"/api/v1/cases/{CASE_REF}/members", headers=headers,
                          json={"email": "nobody@example.org"})
    assert unknown.status_code == 404
    assert "email" in unknown.get_json()["error"]["fields"]


# Who may do what to case NK-2020-001: outsiders do not learn that it exists (404); those who
# may see it but not change it are refused (403).
CASE_TABLE = [
    # who,                   GET case, POST member, POST incident
    ("member_investigator",   200,      201,         201),
    ("member_legal",          200,      403,         403),
    ("outsider_investigator", 404,      404,         404),
    ("outsider_legal",        404,      404,         404),
    ("auditor",               200,      403,         403),
    ("admin",                 200,      201,         201),
]


@pytest.mark.parametrize("who, read, member, incident", CASE_TABLE)
def test_case_permissions(client, world, as_role, who, read, member, incident):
    headers = world["headers"][who]
    newcomer, _ = as_role("investigator")
    assert client.get(f"/api/v1/cases/{CASE_REF}", headers=headers).status_code == read
    response = client.post(f"/api/v1/cases/{CASE_REF}/members", headers=headers,
                           json={"email": newcomer.email})
    assert response.status_code == member
    response = client.post(f"/api/v1/cases/{CASE_REF}/incidents", headers=headers, json={
        "title": "Shelling of the hospital", "incident_type": "shelling",
        "occurred_from": "2020-10-05T00:00:00Z"})
    assert response.status_code == incident


@pytest.mark.parametrize("role, status", [("investigator", 201), ("admin", 201),
                                          ("legal", 403), ("auditor", 403)])
def test_who_opens_cases(client, as_role, role, status):
    _, headers = as_role(role)
    response = client.post("/api/v1/cases", headers=headers, json=NEW_CASE)
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_a_refused_user_gets_403_even_with_a_bad_body(client, as_role):
    _, headers = as_role("legal")
    assert client.post("/api/v1/cases", headers=headers, json={"x": 1}).status_code == 403
