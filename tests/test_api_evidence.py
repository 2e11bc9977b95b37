"""Evidence through the API: upload (multipart), show, list, download, link to incidents."""

import hashlib
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditEntry, CustodyEvent, Evidence
from ihl_docs.core.storage import IncomingFile
from tests.api_support import CASE_REF, INCIDENT_REF, PHOTO, UPLOAD_URL, error_of, upload
from tests.builders import make_case, make_evidence, make_incident


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def investigator(world):
    return world["headers"]["member_investigator"]


def stored_files(store) -> list:
    return [p for p in store.root.rglob("*") if p.is_file()]


def test_upload_a_photo(client, investigator, store, db):
    response = upload(client, investigator)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["ref"] == f"{CASE_REF}-E0001"
    assert item["case_ref"] == CASE_REF
    assert item["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert item["size"] == len(PHOTO)
    assert item["media_type"] == "image/jpeg"
    assert item["original_filename"] == "IMG_0001.JPG"
    assert item["kind"] == "photo"
    assert item["capture_time"] == "2020-10-04T09:12:00+00:00"
    assert item["capture_device"] == "Canon EOS 80D"
    assert item["thumbnail_sha256"]
    assert item["sensitivity"] == "restricted"
    assert item["incidents"] == []
    assert store.path_for(item["sha256"]).read_bytes() == PHOTO
    assert list(store.tmp.iterdir()) == []
    case = client.get(f"/api/v1/cases/{CASE_REF}", headers=investigator).get_json()
    assert case["evidence"] == [item["ref"]]


def test_the_upload_is_streamed_into_the_store(client, investigator, monkeypatch):
    from ihl_docs.api import evidence as api_evidence

    seen = []
    register = api_evidence.services.register_evidence

    def spy(session, case, data, incoming, **kw):
        seen.append((type(incoming), incoming.size, incoming.path.parent.name))
        return register(session, case, data, incoming, **kw)

    monkeypatch.setattr(api_evidence.services, "register_evidence", spy)
    assert upload(client, investigator).status_code == 201
    assert seen == [(IncomingFile, len(PHOTO), "tmp")]  # hashed as it arrived, never in memory


def test_upload_with_every_field_and_a_link(client, investigator, db):
    fields = {
        "kind": "open_source_post", "title": "Video of the strike", "description": "Posted",
        "source_url": "https://example.org/post/1", "source_platform": "Telegram",
        "source_author": "@witness", "published_at": "2020-10-04T12:30:00+03:00",
        "acquired_at": "2020-10-05T08:00:00Z", "acquired_by": "Analyst A",
        "acquisition_method": "Archived with a forensic capture tool",
        "sensitivity": "confidential", "reliability": "B", "credibility": "2",
        "incident_ref": INCIDENT_REF, "relevance": "Shows the impact",
    }
    response = upload(client, investigator, b"<html><body>post</body></html>", "post.html",
                      **fields)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["published_at"] == "2020-10-04T09:30:00+00:00"
    assert item["acquired_at"] == "2020-10-05T08:00:00+00:00"
    for name in ("kind", "title", "description", "source_url", "source_platform",
                 "source_author", "acquired_by", "acquisition_method", "sensitivity",
                 "reliability", "credibility"):
        assert item[name] == fields[name], name
    assert item["incidents"] == [INCIDENT_REF]
    assert item["media_type"] == "text/html"
    shown = client.get(f"/api/v1/evidence/{item['ref']}", headers=investigator).get_json()
    assert shown == item
    chain = client.get(f"/api/v1/evidence/{item['ref']}/custody", headers=investigator)
    actions = [(e["action"], e["custodian_to"]) for e in chain.get_json()["items"]]
    assert actions[0] == ("collected", "Analyst A")
    assert actions[1][0] == "received"


def test_a_physical_item_needs_no_file(client, investigator):
    response = upload(client, investigator, None, kind="physical_item", title="Tail fin")
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert (item["sha256"], item["size"], item["media_type"]) == (None, None, "")
    download = client.get(f"/api/v1/evidence/{item['ref']}/content", headers=investigator)
    assert "physical item" in error_of(download, 404)["message"]


def test_a_physical_item_with_a_file_is_refused(client, investigator, store):
    error = error_of(upload(client, investigator, kind="physical_item"), 422)
    assert set(error["fields"]) == {"file"}
    assert stored_files(store) == []


def test_the_same_bytes_twice_name_the_first(client, investigator, world, store, db):
    first = upload(client, investigator).get_json()
    error = error_of(upload(client, investigator, title="Again", filename="copy.jpg"), 409)
    assert first["ref"] in error["message"]
    assert first["ref"] in error["fields"]["file"]
    assert len(db.exec(select(Evidence)).all()) == 1
    assert list(store.tmp.iterdir()) == []
    other = make_case(db, world["creator"], ref="NK-2020-002")
    response = upload(client, investigator, url="/api/v1/cases/NK-2020-002/evidence")
    assert response.status_code == 201
    assert response.get_json()["sha256"] == first["sha256"]
    assert other.ref == response.get_json()["case_ref"]


def test_an_empty_or_missing_file_is_422_on_file(client, investigator, store):
    assert set(error_of(upload(client, investigator, b""), 422)["fields"]) == {"file"}
    assert set(error_of(upload(client, investigator, None), 422)["fields"]) == {"file"}
    assert stored_files(store) == []


@pytest.mark.parametrize("kwargs", [
    {"json": {"kind": "physical_item", "title": "Fin"}},
    {"data": "kind=physical_item&title=Fin", "content_type": "application/x-www-form-urlencoded"},
    {"data": "kind: physical_item", "content_type": "text/plain"},
    {},
])
def test_anything_but_multipart_is_415(client, investigator, kwargs):
    error = error_of(client.post(UPLOAD_URL, headers=investigator, **kwargs), 415)
    assert "multipart/form-data" in error["message"]


TOMORROW = (utcnow() + timedelta(days=1)).isoformat()
BAD_FIELDS = [
    ({"kind": ""}, "kind"),
    ({"kind": "selfie"}, "kind"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"published_at": "2020-10-04T09:30:00"}, "published_at"),
    ({"published_at": "2020-10-04"}, "published_at"),
    ({"published_at": "yesterday"}, "published_at"),
    ({"published_at": "1601803800"}, "published_at"),
    ({"acquired_at": "0001-01-01T00:00:00+05:00"}, "acquired_at"),
    ({"acquired_at": TOMORROW}, "acquired_at"),
    ({"sensitivity": "secret"}, "sensitivity"),
    ({"reliability": "G"}, "reliability"),
    ({"credibility": "7"}, "credibility"),
    ({"source_url": "https://example.org/" + "x" * 2000}, "source_url"),
    ({"description": "nul\x00byte"}, "description"),
    ({"owner": "me"}, "owner"),
    ({"incident_ref": "NK-2020-001-I999"}, "incident_ref"),
    ({"relevance": "Shows the crater"}, "relevance"),
    ({"relevance": "x" * 20_001, "incident_ref": INCIDENT_REF}, "relevance"),
]


@pytest.mark.parametrize("fields, field", BAD_FIELDS)
def test_bad_fields_are_named(client, investigator, store, db, fields, field):
    error = error_of(upload(client, investigator, **fields), 422)
    assert field in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"].values())
    assert db.exec(select(Evidence)).all() == []
    assert stored_files(store) == []


def test_a_missing_kind_or_title_is_named(client, investigator):
    response = client.post(UPLOAD_URL, headers=investigator, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PHOTO), "a.jpg")})
    assert set(error_of(response, 422)["fields"]) == {"kind", "title"}


def test_parts_in_the_wrong_shape_are_named(client, investigator, store):
    form = {"kind": "photo", "title": "T", "file": "not a file part"}
    response = client.post(UPLOAD_URL, headers=investigator, data=form,
                           content_type="multipart/form-data")
    assert set(error_of(response, 422)["fields"]) == {"file"}
    form = {"kind": ["photo", "video"], "title": (io.BytesIO(b"x"), "t.txt"),
            "file": [(io.BytesIO(PHOTO), "a.jpg"), (io.BytesIO(b"%PDF-1.4"), "b.pdf")]}
    response = client.post(UPLOAD_URL, headers=investigator, data=form,
                           content_type="multipart/form-data")
    assert set(error_of(response, 422)["fields"]) == {"kind", "title", "file"}
    assert stored_files(store) == []


def test_an_incident_of_another_case_is_not_linked(client, investigator, world, db):
    other = make_case(db, world["creator"], ref="NK-2020-002")
    make_incident(db, other, world["creator"])
    error = error_of(upload(client, investigator, incident_ref="NK-2020-002-I001"), 422)
    assert set(error["fields"]) == {"incident_ref"}


@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.exe", None),
    ("a\x1b[31mred\x07\tb.jpg", "a[31mredb.jpg"),
    ("<script>alert(1)</script>.jpg", "script>.jpg"),
    ("x" * 10_000 + ".jpeg", None),
])
def test_hostile_file_names_are_kept_for_display_only(client, investigator, store, name, shown):
    response = upload(client, investigator, filename=name)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    kept_name = item["original_filename"]
    assert kept_name == shown if shown else kept_name.endswith(("evil.exe", ".jpeg"))
    assert len(kept_name) <= 255
    assert not kept_name.startswith(".")
    assert not set(kept_name) & {"/", "\\"}
    assert kept_name.isprintable()
    kept = {store.path_for(item["sha256"]), store.path_for(item["thumbnail_sha256"])}
    assert set(stored_files(store)) == kept  # under their hashes, whatever the name said
    with client.get(f"/api/v1/evidence/{item['ref']}/content", headers=investigator) as download:
        assert download.headers["Content-Disposition"] == \
            f"attachment; filename={item['ref']}.jpg"


def test_show_an_item(client, world, store, db):
    item = make_evidence(db, world["case"], world["creator"], store, PHOTO, kind="photo")
    response = client.get(f"/api/v1/evidence/{item.ref}", headers=world["headers"]["auditor"])
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["ref"] == item.ref
    assert shown["sha256"] == item.sha256
    assert shown["thumbnail_sha256"]
    assert shown["parent_ref"] is None
    assert response.headers["ETag"] == '"1"'
    for ref in ("NK-2020-001-E0099", "%00", "x" * 200):
        assert error_of(client.get(f"/api/v1/evidence/{ref}",
                                   headers=world["headers"]["admin"]), 404)


def test_list_the_case_evidence(client, world, store, db):
    creator, case = world["creator"], world["case"]
    photo = make_evidence(db, case, creator, store, PHOTO, kind="photo",
                          sensitivity="confidential")
    document = make_evidence(db, case, creator, store, b"%PDF-1.4 report")
    fin = make_evidence(db, case, creator, store, None, title="Tail fin")
    headers = world["headers"]["member_legal"]
    client.post(f"/api/v1/incidents/{INCIDENT_REF}/evidence", json={"evidence_ref": photo.ref},
                headers=world["headers"]["admin"])

    def refs(query=""):
        response = client.get(f"{UPLOAD_URL}{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [item["ref"] for item in response.get_json()["items"]]

    assert refs() == [photo.ref, document.ref, fin.ref]
    assert refs("?kind=physical_item") == [fin.ref]
    assert refs("?sensitivity=confidential") == [photo.ref]
    assert refs(f"?incident={INCIDENT_REF}") == [photo.ref]
    assert refs("?kind=photo&sensitivity=public") == []
    first = client.get(f"{UPLOAD_URL}?limit=2", headers=headers).get_json()
    assert first["total"] == 3
    assert len(first["items"]) == 2
    assert "offset=2" in first["next"]
    assert client.get(first["next"], headers=headers).get_json()["items"][0]["ref"] == fin.ref
    for query, field in [("?kind=selfie", "kind"), ("?limit=501", "limit"),
                         ("?incident=NK-2020-001-I999", "incident")]:
        response = client.get(f"{UPLOAD_URL}{query}", headers=headers)
        assert field in error_of(response, 422)["fields"]


def test_download_the_original(client, world, store, db):
    item = make_evidence(db, world["case"], world["creator"], store, PHOTO, kind="photo",
                         original_filename="IMG_0001.JPG")
    auditor = world["headers"]["auditor"]
    with client.get(f"/api/v1/evidence/{item.ref}/content", headers=auditor) as response:
        assert response.status_code == 200
        assert response.data == PHOTO
        headers = response.headers
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] == f"attachment; filename={item.ref}.jpg"
    assert headers["Content-Length"] == str(len(PHOTO))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["ETag"] == f'"{item.sha256}"'
    assert headers["Cache-Control"] == "no-store"
    assert "IMG_0001" not in str(headers)
    db.expire_all()
    accessed = db.exec(select(CustodyEvent).where(CustodyEvent.action == "accessed")).one()
    assert accessed.evidence_id == item.id
    assert accessed.hash_matched is True
    assert accessed.sha256_observed == item.sha256
    assert accessed.actor == accessed.custodian_to
    assert "auditor" in accessed.actor
    audit = db.exec(select(AuditEntry).where(AuditEntry.action == "custody_accessed")).one()
    assert audit.entity_id.startswith(item.ref)
    assert audit.actor == accessed.actor


def test_an_html_original_is_a_sandboxed_attachment(client, world, store, db):
    page = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    item = make_evidence(db, world["case"], world["creator"], store, page,
                         kind="open_source_post", original_filename="post.html")
    with client.get(f"/api/v1/evidence/{item.ref}/content",
                    headers=world["headers"]["admin"]) as response:
        assert response.data == page
        assert response.headers["Content-Disposition"] == f"attachment; filename={item.ref}.html"
        assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_damaged_original_is_not_served(client, world, store, db, damage):
    item = make_evidence(db, world["case"], world["creator"], store, b"%PDF-1.4 original")
    path = store.path_for(item.sha256)
    path.chmod(0o644)
    if damage == "altered":
        path.write_bytes(b"%PDF-1.4 forged")
    else:
        path.unlink()
    response = client.get(f"/api/v1/evidence/{item.ref}/content",
                          headers=world["headers"]["admin"])
    error = error_of(response, 409)
    assert error["code"] == "integrity"
    assert item.ref in error["message"]
    db.expire_all()
    assert db.exec(select(CustodyEvent).where(CustodyEvent.action == "accessed")).all() == []


def test_link_evidence_to_an_incident(client, world, store, db):
    item = make_evidence(db, world["case"], world["creator"], store, PHOTO, kind="photo")
    url = f"/api/v1/incidents/{INCIDENT_REF}/evidence"
    headers = world["headers"]["member_investigator"]
    response = client.post(url, headers=headers,
                           json={"evidence_ref": item.ref, "relevance": "Shows the crater"})
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    assert link["incident_ref"] == INCIDENT_REF
    assert link["evidence_ref"] == item.ref
    assert link["relevance"] == "Shows the crater"
    assert link["linked_by"].endswith("example.org")
    shown = client.get(f"/api/v1/evidence/{item.ref}", headers=headers).get_json()
    assert shown["incidents"] == [INCIDENT_REF]
    again = error_of(client.post(url, headers=headers, json={"evidence_ref": item.ref}), 409)
    assert set(again["fields"]) == {"evidence_ref"}


def test_bad_links_name_evidence_ref(client, world, store, db, as_role):
    creator = world["creator"]
    other = make_case(db, creator, ref="NK-2020-002")
    elsewhere = make_evidence(db, other, creator, store, b"%PDF-1.4 elsewhere")
    stranger, _ = as_role("investigator")
    hidden = make_evidence(db, make_case(db, stranger, ref="NK-2020-003"), stranger, store,
                           b"%PDF-1.4 hidden")
    url = f"/api/v1/incidents/{INCIDENT_REF}/evidence"
    headers = world["headers"]["member_investigator"]
    for body in [{"evidence_ref": elsewhere.ref}, {"evidence_ref": hidden.ref},
                 {"evidence_ref": "NK-2020-001-E0999"}, {"evidence_ref": ""}, {},
                 {"evidence_ref": 5}, {"evidence_ref": "x\x00"},
                 {"evidence_ref": elsewhere.ref, "extra": 1}]:
        error = error_of(client.post(url, headers=headers, json=body), 422)
        assert "evidence_ref" in error["fields"] or "extra" in error["fields"], body
    message = error_of(client.post(url, headers=headers, json={"evidence_ref": hidden.ref}), 422)
    assert "NK-2020-003" not in message["message"]  # no hint of a case the user cannot see
    assert error_of(client.post(url, headers=headers, data="x", content_type="text/plain"), 415)


WRITES = {"upload", "custody", "link"}


def _request(client, headers, action, ref):
    if action == "show":
        return client.get(f"/api/v1/evidence/{ref}", headers=headers)
    if action == "list":
        return client.get(UPLOAD_URL, headers=headers)
    if action == "download":
        return client.get(f"/api/v1/evidence/{ref}/content", headers=headers)
    if action == "chain":
        return client.get(f"/api/v1/evidence/{ref}/custody", headers=headers)
    if action == "upload":
        return upload(client, headers)
    if action == "custody":
        return client.post(f"/api/v1/evidence/{ref}/custody", headers=headers, json={
            "action": "sealed", "occurred_at": utcnow().isoformat(), "custodian_to": "Lab"})
    return client.post(f"/api/v1/incidents/{INCIDENT_REF}/evidence", headers=headers,
                       json={"evidence_ref": ref})


@pytest.mark.parametrize("who, read, write", [
    ("member_investigator", 200, 201), ("admin", 200, 201), ("member_legal", 200, 403),
    ("auditor", 200, 403), ("outsider_investigator", 404, 404), ("outsider_legal", 404, 404),
])
@pytest.mark.parametrize("action", ["show", "list", "download", "chain", "upload", "custody",
                                    "link"])
def test_who_may_do_what(client, world, store, db, who, read, write, action):
    item = make_evidence(db, world["case"], world["creator"], store, b"%PDF-1.4 report")
    with _request(client, world["headers"][who], action, item.ref) as response:
        expected = write if action in WRITES else read
        assert response.status_code == expected, response.get_data(as_text=True)
    assert list(store.tmp.iterdir()) == []


@pytest.mark.parametrize("who", ["outsider_investigator", "member_legal", "auditor", None])
def test_refused_uploads_never_reach_the_store(client, world, store, monkeypatch, who):
    opened = []
    incoming = store.incoming
    monkeypatch.setattr(store, "incoming", lambda: opened.append(1) or incoming())
    headers = world["headers"][who] if who else {}
    assert upload(client, headers).status_code in {401, 403, 404}
    assert opened == []
    assert stored_files(store) == []


def test_head_shows_the_download_headers_without_reading_or_recording(client, world, store, db):
    item = make_evidence(db, world["case"], world["creator"], store, PHOTO, kind="photo")
    url = f"/api/v1/evidence/{item.ref}/content"
    with client.head(url, headers=world["headers"]["auditor"]) as response:
        assert response.status_code == 200
        assert response.data == b""
        assert response.headers["Content-Length"] == str(len(PHOTO))
        assert response.headers["Content-Disposition"] == f"attachment; filename={item.ref}.jpg"
    db.expire_all()
    assert db.exec(select(CustodyEvent).where(CustodyEvent.action == "accessed")).all() == []
    fin = make_evidence(db, world["case"], world["creator"], store, None, title="Tail fin")
    assert client.head(f"/api/v1/evidence/{fin.ref}/content",
                       headers=world["headers"]["admin"]).status_code == 404


def test_uploads_work_with_csrf_protection_on(app_config, db, monkeypatch):
    """As deployed: CSRF on for the pages; the API is exempt, and reads no body before the
    token is checked."""
    from ihl_docs import create_app
    from tests.api_support import bearer, token_for
    from tests.builders import make_user

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True, "TESTING": False})
    store, started = app.extensions["ihl_store"], []
    incoming = store.incoming
    monkeypatch.setattr(store, "incoming", lambda: started.append(1) or incoming())
    user = make_user(db, "investigator")
    make_case(db, user, ref=CASE_REF)
    client = app.test_client()
    assert upload(client, {}).status_code == 401
    assert started == []
    response = upload(client, bearer(token_for(db, user)), b"%PDF-1.4 report", "r.pdf",
                      kind="document")
    app.extensions["ihl_engine"].dispose()
    assert response.status_code == 201, response.get_json()
