"""Bad input of every kind gets a 4xx JSON error naming the field, never a 500."""

import json

import pytest

from ihl_docs import create_app
from ihl_docs.api.inputs import JSON_LIMIT
from tests.api_support import CASE_REF, INCIDENT_REF, bearer, token_for
from tests.builders import make_user

GOOD_CASE = {"ref": "NK-2021-009", "title": "Siege of the city"}
GOOD_INCIDENT = {"title": "Strike", "incident_type": "rocket",
                 "occurred_from": "2020-10-04T09:30:00Z"}


@pytest.fixture
def admin(as_role):
    return as_role("admin")[1]


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["message"]
    return error


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"ref": }', b"{'ref': 'x'}", b'{"a": NaN}', b'{"a": Infinity}',
    b'{"a": -Infinity}', b"\xff\xfe{}", b'\xef\xbb\xbf{"ref": "A"}', b"[" * 100_000,
    b'{"n": ' + b"9" * 5000 + b"}", b'{"title": "\xc3\x28"}',
])
def test_malformed_json_is_400(client, admin, raw):
    response = client.post("/api/v1/cases", headers=admin, data=raw,
                           content_type="application/json")
    assert _error(response, 400)["code"] == "malformed_json"


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_422(client, admin, body):
    response = client.post("/api/v1/cases", headers=admin, data=body,
                           content_type="application/json")
    assert "body" in _error(response, 422)["fields"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_a_body_that_is_not_json_is_415(client, admin, content_type):
    response = client.post("/api/v1/cases", headers=admin, data=json.dumps(GOOD_CASE),
                           content_type=content_type)
    assert _error(response, 415)["code"] == "unsupported_media_type"


def test_json_with_a_charset_or_a_json_suffix_is_accepted(client, admin):
    response = client.post("/api/v1/cases", headers=admin, data=json.dumps(GOOD_CASE),
                           content_type="application/json; charset=utf-8")
    assert response.status_code == 201
    response = client.post("/api/v1/cases", headers=admin,
                           data=json.dumps({**GOOD_CASE, "ref": "NK-2021-010"}),
                           content_type="application/merge-patch+json")
    assert response.status_code == 201


CASE_PROBLEMS = [
    ({"title": "No ref"}, "ref"),
    ({**GOOD_CASE, "ref": "x"}, "ref"),
    ({**GOOD_CASE, "ref": "NK 2020"}, "ref"),
    ({**GOOD_CASE, "ref": 12345}, "ref"),
    ({**GOOD_CASE, "title": ""}, "title"),
    ({**GOOD_CASE, "title": " \t "}, "title"),
    ({**GOOD_CASE, "title": "x" * 301}, "title"),
    ({**GOOD_CASE, "title": ["a"]}, "title"),
    ({**GOOD_CASE, "title": None}, "title"),
    ({**GOOD_CASE, "title": "Nul\x00byte"}, "title"),
    ({**GOOD_CASE, "title": "Lone \ud800 surrogate"}, "title"),
    ({**GOOD_CASE, "conflict_classification": "civil war"}, "conflict_classification"),
    ({**GOOD_CASE, "owner": "me"}, "owner"),
    ({**GOOD_CASE, "parties": {"name": "A"}}, "parties"),
    ({**GOOD_CASE, "parties": ["A"]}, "parties.0"),
    ({**GOOD_CASE, "parties": [{"name": "A", "kind": "state", "state_code": "XYZ"}]},
     "parties.0.state_code"),
    ({**GOOD_CASE, "parties": [{"name": "A", "kind": "state"}]}, "parties.0.state_code"),
    ({**GOOD_CASE, "parties": [{"name": "A", "kind": "non-state", "state_code": "ARM"}]},
     "parties.0.state_code"),
    ({**GOOD_CASE, "parties": [{"name": "A", "kind": "rebels"}]}, "parties.0.kind"),
    ({**GOOD_CASE, "parties": [{"name": "A", "kind": "non-state", "flag": 1}]},
     "parties.0.flag"),
    ({**GOOD_CASE, "parties": [{"name": "A\x00", "kind": "non-state"}]}, "parties.0.name"),
    ({**GOOD_CASE, "parties": [{"name": " ", "kind": "non-state"}]}, "parties.0.name"),
    ({**GOOD_CASE, "parties": [{"name": f"P{i}", "kind": "non-state"} for i in range(51)]},
     "parties"),
    ({**GOOD_CASE, "x\x00": 1}, "body"),
]


@pytest.mark.parametrize("body, field", CASE_PROBLEMS)
def test_a_bad_case_names_the_field(client, admin, body, field):
    error = _error(client.post("/api/v1/cases", headers=admin, json=body), 422)
    assert field in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"].values())


INCIDENT_PROBLEMS = [
    ({"killed_min": 10**30}, "killed_min"),
    ({"killed_min": -1}, "killed_min"),
    ({"killed_min": 1.5}, "killed_min"),
    ({"killed_min": True}, "killed_min"),
    ({"latitude": 1e308, "longitude": 0}, "latitude"),
    ({"latitude": "north", "longitude": 0}, "latitude"),
    ({"latitude": 10}, "longitude"),
    ({"location_precision_m": 10**12}, "location_precision_m"),
    ({"occurred_from": "yesterday"}, "occurred_from"),
    ({"occurred_from": "2020-10-04T09:30:00"}, "occurred_from"),
    ({"occurred_from": "2020-10-04"}, "occurred_from"),
    ({"occurred_from": "0001-01-01T00:00:00+05:00"}, "occurred_from"),
    ({"occurred_from": "9999-12-31T23:00:00-05:00"}, "occurred_from"),
    ({"occurred_from": "2999-01-01T00:00:00Z"}, "occurred_from"),
    ({"occurred_from": 1601800000}, "occurred_from"),
    ({"incident_type": "bombing"}, "incident_type"),
    ({"civilian_objects": "market"}, "civilian_objects"),
    ({"civilian_objects": ["market", "castle"]}, "civilian_objects.1"),
    ({"narrative": "x" * 200_001}, "narrative"),
    ({"narrative": "a\x00b"}, "narrative"),
    ({"country": "Armenia"}, "country"),
    ({"country": 5}, "country"),
    ({"ref": "NK-1-I009"}, "ref"),
    ({"version": 3}, "version"),
]


@pytest.mark.parametrize("changes, field", INCIDENT_PROBLEMS)
def test_a_bad_incident_names_the_field(client, world, changes, field):
    response = client.post(f"/api/v1/cases/{CASE_REF}/incidents",
                           headers=world["headers"]["admin"], json={**GOOD_INCIDENT, **changes})
    error = _error(response, 422)
    assert field in error["fields"], error


def test_messages_are_plain_english(client, admin):
    body = {**GOOD_CASE, "title": "", "conflict_classification": "x", "extra": 1,
            "parties": [{"name": "A", "kind": "state", "state_code": "XYZ"}]}
    fields = client.post("/api/v1/cases", headers=admin, json=body).get_json()["error"]["fields"]
    assert fields == {
        "title": "This field cannot be empty.",
        "conflict_classification":
            "Choose one of 'international', 'non-international', 'both' or 'undetermined'.",
        "extra": "This field is not accepted here.",
        "parties.0.state_code": "'XYZ' is not an ISO 3166-1 alpha-3 country code.",
    }


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"),
    ("limit=" + "9" * 40, "limit"), ("limit=1.5", "limit"), ("offset=-1", "offset"),
    ("offset=" + "9" * 5000, "offset"), ("colour=red", "colour"),
    ("incident_type=bombing", "incident_type"), ("q=%00", "q"), ("q=" + "x" * 201, "q"),
    ("date_from=2020-10-01T00:00:00", "date_from"), ("date_to=tomorrow", "date_to"),
    ("date_from=0001-01-01T00:00:00%2B01:00", "date_from"),
])
def test_bad_query_parameters_name_the_parameter(client, world, query, field):
    response = client.get(f"/api/v1/cases/{CASE_REF}/incidents?{query}",
                          headers=world["headers"]["admin"])
    assert field in _error(response, 422)["fields"]


@pytest.mark.parametrize("ref", [
    "%00", "NK%002020", "..", "%2e%2e", "a%20b", "%C3%BC", "x" * 500, "NK-2020-001%0A",
    "'%20OR%201=1--", "%25", "%F0%9F%92%A5", "nk-2020-001",
])
@pytest.mark.parametrize("path", ["/api/v1/cases/{}", "/api/v1/cases/{}/incidents",
                                  "/api/v1/incidents/{}"])
def test_odd_refs_in_the_path_are_404(client, world, ref, path):
    response = client.get(path.format(ref), headers=world["headers"]["admin"])
    assert _error(response, 404)["code"] == "not_found"


def test_odd_refs_in_writes_are_404_too(client, world):
    headers = {**world["headers"]["admin"], "If-Match": "1"}
    assert client.patch("/api/v1/incidents/%00", headers=headers, json={}).status_code == 404
    assert client.post("/api/v1/cases/%00/members", headers=headers,
                       json={"email": "a@example.org"}).status_code == 404


def test_nul_and_oversized_email_for_a_member(client, world):
    url = f"/api/v1/cases/{CASE_REF}/members"
    headers = world["headers"]["admin"]
    for email in ["a\x00@example.org", "x" * 300, "", 5]:
        error = _error(client.post(url, headers=headers, json={"email": email}), 422)
        assert "email" in error["fields"]


def test_a_body_above_max_content_length_is_413(app_config, db):
    app = create_app({**app_config, "MAX_UPLOAD_MB": 0})  # so the whole limit is 1 MiB
    token = token_for(db, make_user(db, "admin"))
    body = json.dumps({**GOOD_CASE, "summary": "x" * (2 * 1024 * 1024)})
    response = app.test_client().post("/api/v1/cases", headers=bearer(token), data=body,
                                      content_type="application/json")
    app.extensions["ihl_engine"].dispose()
    assert _error(response, 413)["code"] == "request_entity_too_large"


def test_a_json_body_above_the_json_limit_is_413(client, admin):
    body = json.dumps({**GOOD_CASE, "summary": "x" * (JSON_LIMIT + 1)})
    response = client.post("/api/v1/cases", headers=admin, data=body,
                           content_type="application/json")
    assert _error(response, 413)["code"] == "request_entity_too_large"


def test_domain_errors_reach_the_client_as_json(client, world):
    response = client.post("/api/v1/cases", headers=world["headers"]["admin"],
                           json={**GOOD_CASE, "ref": CASE_REF})
    assert _error(response, 409)["code"] == "conflict"
    response = client.get(f"/api/v1/incidents/{INCIDENT_REF}",
                          headers=world["headers"]["outsider_investigator"])
    assert INCIDENT_REF in _error(response, 404)["message"]
