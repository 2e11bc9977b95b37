"""GET /api/v1/audit: the log in seq order, paged by `after`, for auditors and administrators."""

import pytest
from sqlmodel import select

from ihl_docs.core.audit.chain import GENESIS_HASH, verify_entries
from ihl_docs.core.models import AuditEntry

FIELDS = ["seq", "prev_hash", "hash", "occurred_at", "actor", "action", "entity", "entity_id",
          "case_ref", "change"]


def all_seqs(db) -> list[int]:
    seqs = list(db.exec(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    db.commit()
    return seqs


def test_entries_come_in_seq_order_as_flat_documents_that_verify(client, db, world):
    response = client.get("/api/v1/audit?limit=500", headers=world["headers"]["auditor"])
    assert response.status_code == 200
    body = response.get_json()
    assert [item["seq"] for item in body["items"]] == all_seqs(db)
    assert body["total"] == len(all_seqs(db))
    assert body["next"] is None
    first = body["items"][0]
    assert list(first) == FIELDS
    assert first["prev_hash"] == GENESIS_HASH
    assert set(first["change"]) == {"before", "after"}
    assert first["occurred_at"].endswith("+00:00")
    assert verify_entries(iter(body["items"]))[1] is None  # the chain holds as served


def test_after_and_limit_page_through_the_log_following_next(client, db, world):
    headers, seqs = world["headers"]["admin"], all_seqs(db)
    assert len(seqs) > 5
    first = client.get("/api/v1/audit?limit=2", headers=headers).get_json()
    assert [i["seq"] for i in first["items"]] == seqs[:2]
    assert first["total"] == len(seqs)
    assert first["next"].startswith("http://localhost/api/v1/audit?")
    assert f"after={seqs[1]}" in first["next"]
    assert "limit=2" in first["next"]
    shown, url = [], "/api/v1/audit?limit=2"
    while url:
        body = client.get(url, headers=headers).get_json()
        shown += [i["seq"] for i in body["items"]]
        url = body["next"]
    assert shown == seqs
    rest = client.get(f"/api/v1/audit?after={seqs[2]}&limit=2", headers=headers).get_json()
    assert [i["seq"] for i in rest["items"]] == seqs[3:5]
    assert rest["total"] == len(seqs) - 3
    past = client.get(f"/api/v1/audit?after={seqs[-1]}", headers=headers).get_json()
    assert past == {"items": [], "total": 0, "next": None}


@pytest.mark.parametrize("query, field", [("limit=501", "limit"), ("limit=0", "limit"),
                                          ("after=-1", "after"), ("after=x", "after"),
                                          ("after=2147483648", "after"),
                                          ("offset=3", "offset")])
def test_bad_paging_is_422_naming_the_field(client, world, query, field):
    response = client.get(f"/api/v1/audit?{query}", headers=world["headers"]["auditor"])
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("who, status", [("auditor", 200), ("admin", 200),
                                         ("member_investigator", 403), ("member_legal", 403),
                                         ("outsider_legal", 403)])
def test_only_auditors_and_admins_read_the_log(client, world, who, status):
    response = client.get("/api/v1/audit", headers=world["headers"][who])
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"
        assert "items" not in response.get_json()


def test_without_a_token_it_is_401(client, world):
    assert client.get("/api/v1/audit").status_code == 401


def test_the_openapi_document_describes_it(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"after", "limit"}
    assert {"200", "401", "403", "422"} <= set(operation["responses"])


# ---- POST /verify -----------------------------------------------------------------------------

def test_verification_through_the_api_reports_an_intact_instance(client, world):
    response = client.post("/api/v1/verify", headers=world["headers"]["auditor"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True
    assert body["problems"] == []
    assert body["audit_entries"] > 5


def test_verification_names_an_altered_file_by_its_evidence_ref(client, db, app, world):
    from tests.builders import make_evidence

    store = app.extensions["ihl_store"]
    item = make_evidence(db, world["case"], world["creator"], store, data=b"%PDF-1.4 report 42")
    path = store.path_for(item.sha256)
    path.chmod(0o644)
    path.write_bytes(b"%PDF-1.4 report 43")
    body = client.post("/api/v1/verify", headers=world["headers"]["admin"]).get_json()
    assert body["ok"] is False
    assert body["files"] >= 1
    assert any(item.ref in problem and "altered" in problem for problem in body["problems"])


@pytest.mark.parametrize("who", ["member_investigator", "member_legal", "outsider_legal"])
def test_only_auditors_and_administrators_run_verification(client, world, who):
    response = client.post("/api/v1/verify", headers=world["headers"][who])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_verification_needs_a_token(client):
    assert client.post("/api/v1/verify").status_code == 401


# ---- POST /verifications, GET /verifications/{id} ---------------------------------------------

def test_a_verification_runs_in_the_background_and_reports_each_finding(client, db, app, world):
    from tests.builders import make_evidence

    store = app.extensions["ihl_store"]
    item = make_evidence(db, world["case"], world["creator"], store, data=b"%PDF-1.4 report 7")
    store.path_for(item.sha256).unlink()
    headers = world["headers"]["auditor"]
    response = client.post("/api/v1/verifications", json={"case_ref": world["case"].ref},
                           headers=headers)
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    assert accepted["id"].startswith("VER-")
    assert accepted["status"] in ("queued", "done")
    assert response.headers["Location"].endswith(f"/api/v1/verifications/{accepted['id']}")
    body = client.get(f"/api/v1/verifications/{accepted['id']}", headers=headers).get_json()
    assert body["status"] == "done"
    assert body["case_ref"] == world["case"].ref
    assert body["files_checked"] == 1
    assert body["problem_count"] == 1
    assert body["audit_checked"] == body["audit_head_seq"] > 5
    [finding] = body["findings"]
    assert (finding["kind"], finding["subject"], finding["number"]) == ("evidence", item.ref, 1)
    assert "file missing" in finding["message"]
    assert finding["acknowledged_at"] is None


def test_a_verification_of_everything_and_bad_requests(client, world):
    headers = world["headers"]["admin"]
    response = client.post("/api/v1/verifications", json={}, headers=headers)
    assert response.status_code == 202
    body = client.get(response.headers["Location"], headers=headers).get_json()
    assert body["case_ref"] is None
    assert body["status"] == "done"
    assert body["findings"] == []
    unknown = client.post("/api/v1/verifications", json={"case_ref": "NO-SUCH-1"},
                          headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {"case_ref": "No case NO-SUCH-1."}
    extra = client.post("/api/v1/verifications", json={"scope": "all"}, headers=headers)
    assert extra.status_code == 422
    assert "scope" in extra.get_json()["error"]["fields"]
    missing = client.get("/api/v1/verifications/VER-99999", headers=headers)
    assert missing.status_code == 404


@pytest.mark.parametrize("who", ["member_investigator", "member_legal"])
def test_only_auditors_and_administrators_start_or_read_verifications(client, world, who):
    started = client.post("/api/v1/verifications", json={},
                          headers=world["headers"]["auditor"]).get_json()["id"]
    assert client.post("/api/v1/verifications", json={},
                       headers=world["headers"][who]).status_code == 403
    assert client.get(f"/api/v1/verifications/{started}",
                      headers=world["headers"][who]).status_code == 403
    assert client.get(f"/api/v1/verifications/{started}").status_code == 401
