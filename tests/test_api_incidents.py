"""Incidents through the API: filing, reading, editing under If-Match, the review workflow."""

from datetime import datetime

import pytest

from tests.api_support import CASE_REF, INCIDENT_REF
from tests.builders import make_incident

INCIDENT = {
    "title": "Shelling of the maternity ward", "incident_type": "shelling",
    "occurred_from": "2020-10-08T11:00:00+04:00", "occurred_to": "2020-10-08T11:30:00+04:00",
    "date_precision": "exact", "place_name": "Maternity ward", "admin_area": "Central district",
    "country": "arm", "latitude": 39.81, "longitude": 46.75, "location_precision_m": 50,
    "weapon_type": "artillery", "munition_details": "152 mm", "responsible_party": "Group B",
    "narrative": "Two shells hit the ward.", "killed_min": 0, "killed_max": 1,
    "injured_min": 3, "injured_max": 5, "children_killed": 0, "children_injured": 2,
    "civilian_objects": ["medical"], "military_objective_notes": "None reported nearby.",
    "verification_status": "partly_verified",
}
URL = f"/api/v1/incidents/{INCIDENT_REF}"


def _patch(client, headers, body, version):
    return client.patch(URL, headers={**headers, "If-Match": version}, json=body)


def test_file_an_incident(client, world):
    response = client.post(f"/api/v1/cases/{CASE_REF}/incidents",
                           headers=world["headers"]["member_investigator"], json=INCIDENT)
    assert response.status_code == 201, response.get_json()
    incident = response.get_json()
    assert incident["ref"] == f"{CASE_REF}-I002"
    assert incident["version"] == 1
    assert incident["case_ref"] == CASE_REF
    assert incident["workflow_status"] == "draft"
    # 07:00 UTC, written in the time of Armenia (the country's one zone, taken by default)
    assert incident["occurred_from"] == "2020-10-08T11:00:00+04:00"
    assert incident["time_zone"] == "Asia/Yerevan"
    assert incident["country"] == "ARM"
    assert incident["responsible_party"] == "Group B"
    assert datetime.fromisoformat(incident["created_at"]).utcoffset().total_seconds() == 0
    for name in set(INCIDENT) - {"occurred_from", "occurred_to", "country"}:
        assert incident[name] == INCIDENT[name]


def test_rules_across_fields_name_the_field(client, world):
    body = {**INCIDENT, "killed_min": 5, "killed_max": 1, "responsible_party": "Nobody"}
    response = client.post(f"/api/v1/cases/{CASE_REF}/incidents",
                           headers=world["headers"]["admin"], json=body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"killed_max"}
    body = {**INCIDENT, "responsible_party": "Nobody"}
    response = client.post(f"/api/v1/cases/{CASE_REF}/incidents",
                           headers=world["headers"]["admin"], json=body)
    assert set(response.get_json()["error"]["fields"]) == {"responsible_party"}


def test_show_an_incident(client, world):
    response = client.get(URL, headers=world["headers"]["auditor"])
    assert response.status_code == 200
    assert response.get_json()["ref"] == INCIDENT_REF
    assert response.headers["ETag"] == '"1"'


@pytest.mark.parametrize("who, read, edit", [
    ("member_investigator", 200, 200), ("member_legal", 200, 403), ("auditor", 200, 403),
    ("admin", 200, 200), ("outsider_investigator", 404, 404), ("outsider_legal", 404, 404),
])
def test_incident_permissions(client, world, who, read, edit):
    headers = world["headers"][who]
    assert client.get(URL, headers=headers).status_code == read
    assert client.get(f"/api/v1/cases/{CASE_REF}/incidents",
                      headers=headers).status_code == read
    assert _patch(client, headers, {"title": "Renamed"}, "1").status_code == edit


@pytest.mark.parametrize("if_match", ["1", '"1"', 'W/"1"', ' "1" '])
def test_patch_accepts_bare_quoted_and_weak_versions(client, world, if_match):
    response = _patch(client, world["headers"]["member_investigator"],
                      {"title": "Rocket strike on the old market"}, if_match)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2
    assert response.get_json()["title"] == "Rocket strike on the old market"
    assert response.headers["ETag"] == '"2"'


def test_each_accepted_change_raises_the_version_by_one(client, world):
    headers = world["headers"]["member_investigator"]
    for version, body in enumerate([{"killed_max": 6}, {"narrative": "New account."},
                                    {"civilian_objects": ["market", "residential"],
                                     "verification_status": "verified"}], start=1):
        response = _patch(client, headers, body, str(version))
        assert response.get_json()["version"] == version + 1
    assert client.get(URL, headers=headers).get_json()["killed_max"] == 6


@pytest.mark.parametrize("body", [{}, {"title": "Rocket strike on market"},
                                  {"country": "arm", "killed_min": 2}])
def test_a_patch_that_changes_nothing_keeps_the_version(client, world, body):
    response = _patch(client, world["headers"]["member_investigator"], body, "1")
    assert response.status_code == 200
    assert response.get_json()["version"] == 1


def test_patch_without_if_match_is_428(client, world):
    response = client.patch(URL, headers=world["headers"]["admin"], json={"title": "X"})
    assert response.status_code == 428
    assert response.get_json()["error"]["code"] == "precondition_required"


@pytest.mark.parametrize("if_match", ["", "abc", '"1', "*", "1, 2", "-1", "1.0", "9" * 40])
def test_a_malformed_if_match_is_400(client, world, if_match):
    response = _patch(client, world["headers"]["admin"], {"title": "X"}, if_match)
    assert response.status_code == 400
    assert "If-Match" in response.get_json()["error"]["fields"]


def test_a_stale_version_is_409_and_changes_nothing(client, world):
    headers = world["headers"]["member_investigator"]
    assert _patch(client, headers, {"title": "First edit"}, "1").status_code == 200
    response = _patch(client, world["headers"]["admin"], {"narrative": "Second edit"}, "1")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "stale_version"
    assert error["current_version"] == 2
    assert set(error["fields"]) == {"title"}
    assert error["changes"][0]["from"] == "Rocket strike on market"
    assert error["changes"][0]["to"] == "First edit"
    incident = client.get(URL, headers=headers).get_json()
    assert incident["version"] == 2
    assert incident["narrative"] == ""
    ahead = _patch(client, headers, {"narrative": "Later"}, "7")
    assert ahead.status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"title": None}, "title"), ({"incident_type": None}, "incident_type"),
    ({"title": "   "}, "title"), ({"country": "XXX"}, "country"),
    ({"occurred_to": "2020-01-01T00:00:00Z"}, "occurred_to"),
    ({"latitude": None}, "latitude"), ({"version": 5}, "version"),
    ({"workflow_status": "approved"}, "workflow_status"), ({"killed_min": "many"}, "killed_min"),
    ({"responsible_party": "Nobody"}, "responsible_party"),
])
def test_a_bad_patch_names_the_field_and_changes_nothing(client, world, body, field):
    headers = world["headers"]["member_investigator"]
    response = _patch(client, headers, body, "1")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert client.get(URL, headers=headers).get_json()["version"] == 1


def test_a_null_responsible_party_clears_it(client, world):
    response = _patch(client, world["headers"]["admin"], {"responsible_party": None}, "1")
    assert response.get_json()["responsible_party"] is None
    assert response.get_json()["version"] == 2


def test_the_review_workflow(client, world):
    investigator = world["headers"]["member_investigator"]
    lawyer = world["headers"]["member_legal"]

    def move(headers, to, version, **extra):
        return client.post(f"{URL}/status", headers={**headers, "If-Match": str(version)},
                           json={"workflow_status": to, **extra})

    assert move(investigator, "submitted", 1).get_json()["version"] == 2
    assert move(investigator, "in_legal_review", 2).status_code == 403
    assert move(lawyer, "in_legal_review", 1).status_code == 409
    assert move(lawyer, "approved", 2).status_code == 422
    assert move(lawyer, "in_legal_review", 2).status_code == 200
    unverified = move(lawyer, "approved", 3)
    assert unverified.status_code == 422
    assert unverified.get_json()["error"]["fields"]["note"] == (
        f"Approving {world['incident'].ref} needs an approval note saying why: the incident is "
        f"unverified.")
    approved = move(lawyer, "approved", 3, note="Verified in person by the legal team.")
    assert approved.get_json()["workflow_status"] == "approved"
    assert approved.get_json()["approval_note"] == "Verified in person by the legal team."
    assert _patch(client, investigator, {"title": "Late edit"}, "4").status_code == 403
    assert move(world["headers"]["auditor"], "in_legal_review", 4).status_code == 403
    assert move(world["headers"]["outsider_legal"], "in_legal_review", 4).status_code == 404
    missing = client.post(f"{URL}/status", headers=lawyer, json={"workflow_status": "draft"})
    assert missing.status_code == 428


def test_list_and_filter_a_case_s_incidents(client, db, world):
    creator = world["creator"]
    make_incident(db, world["case"], creator, title="Air strike on school",
                  incident_type="air_strike", occurred_from=datetime.fromisoformat(
                      "2020-11-01T08:00:00+00:00"), civilian_objects=["school"])
    headers = world["headers"]["member_legal"]
    url = f"/api/v1/cases/{CASE_REF}/incidents"

    def refs(query=""):
        body = client.get(url + query, headers=headers).get_json()
        assert body["total"] == len(body["items"])
        return [item["ref"] for item in body["items"]]

    assert refs() == [f"{CASE_REF}-I002", INCIDENT_REF]
    assert refs("?incident_type=air_strike") == [f"{CASE_REF}-I002"]
    assert refs("?incident_type=&q=rocket") == [INCIDENT_REF]
    assert refs("?q=100%25_") == []
    assert refs("?workflow_status=submitted") == []
    assert refs("?verification_status=unverified&limit=5") == [f"{CASE_REF}-I002", INCIDENT_REF]
    assert refs("?date_from=2020-10-15T00:00:00Z") == [f"{CASE_REF}-I002"]
    assert refs("?date_to=2020-10-15T00:00:00%2B02:00") == [INCIDENT_REF]
    first = client.get(url + "?limit=1", headers=headers).get_json()
    assert first["total"] == 2
    assert len(first["items"]) == 1
    second = client.get(first["next"], headers=headers).get_json()
    assert [i["ref"] for i in second["items"]] == [INCIDENT_REF]
    assert second["next"] is None
