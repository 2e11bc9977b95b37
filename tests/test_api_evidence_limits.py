"""Uploads at their limits: too large is 413 with nothing kept (no row, no file, no temporary
file); a slow body holds no database lock while it arrives."""

import io
import json
import socket
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from ihl_docs import create_app
from ihl_docs.api.inputs import JSON_LIMIT
from ihl_docs.core.models import AuditEntry, Evidence
from tests.api_support import CASE_REF, bearer, token_for
from tests.builders import make_case, make_user

MIB = 1024 * 1024
URL = f"/api/v1/cases/{CASE_REF}/evidence"


def small_app(app_config, max_upload_mb: int):
    # flask_settings derives MAX_CONTENT_LENGTH from MAX_UPLOAD_MB only in create_app.
    return create_app({**app_config, "MAX_UPLOAD_MB": max_upload_mb})


@pytest.fixture
def limited(app_config, db):
    """An app accepting files up to 1 MiB (bodies up to 2 MiB), an investigator's token."""
    app = small_app(app_config, 1)
    user = make_user(db, "investigator")
    make_case(db, user, ref=CASE_REF)
    yield app, bearer(token_for(db, user))
    app.extensions["ihl_engine"].dispose()


def multipart_body(size: int, **fields) -> tuple[bytes, str]:
    """A whole multipart body in memory, so the test client needs no temporary file."""
    values = {"kind": "document", "title": "Large file", **fields,
              "file": FileStorage(io.BytesIO(b"%PDF-1.4\n" + b"x" * (size - 9)), "large.pdf")}
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def nothing_kept(app, db) -> None:
    store = app.extensions["ihl_store"]
    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    assert list(store.tmp.iterdir()) == []
    assert db.exec(select(Evidence)).all() == []
    assert db.exec(select(AuditEntry).where(AuditEntry.entity == "evidence")).all() == []


def assert_413(response) -> dict:
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


@pytest.mark.parametrize("size", [1 * MIB + 1, 1 * MIB + MIB // 2])
def test_a_file_over_the_limit_within_the_body_limit_is_413(limited, db, size):
    app, headers = limited
    body, content_type = multipart_body(size)
    error = assert_413(app.test_client().post(URL, headers=headers, data=body,
                                              content_type=content_type))
    assert "1 MiB" in error["message"]
    assert "file" in error["fields"]
    nothing_kept(app, db)


def test_a_body_over_max_content_length_is_413_before_anything_is_read(limited, db):
    app, headers = limited
    body, content_type = multipart_body(3 * MIB)
    error = assert_413(app.test_client().post(URL, headers=headers, data=body,
                                              content_type=content_type))
    assert error["code"] == "request_entity_too_large"
    assert "larger than the 1 MiB" in error["message"]
    nothing_kept(app, db)


def test_a_streamed_body_cut_off_at_the_limit_leaves_nothing(limited, db, monkeypatch):
    """Sent in chunks without a Content-Length: the parser stops at MAX_CONTENT_LENGTH, part
    way into the file, whose temporary file is then removed."""
    app, headers = limited
    store, started = app.extensions["ihl_store"], []
    incoming = store.incoming
    monkeypatch.setattr(store, "incoming", lambda: started.append(incoming()) or started[-1])
    body, content_type = multipart_body(3 * MIB)
    response = app.test_client().post(
        URL, headers={**headers, "Transfer-Encoding": "chunked"}, input_stream=io.BytesIO(body),
        content_type=content_type, environ_overrides={"wsgi.input_terminated": True})
    assert "larger than the 1 MiB" in assert_413(response)["message"]
    assert len(started) == 1
    assert 0 < started[0].size <= 2 * MIB
    nothing_kept(app, db)


def test_a_text_field_over_the_form_limit_is_413(limited, db):
    app, headers = limited
    body, content_type = multipart_body(1000, description="d" * (MIB + 1))
    error = assert_413(app.test_client().post(URL, headers=headers, data=body,
                                              content_type=content_type))
    assert "text field" in error["message"]
    nothing_kept(app, db)


def test_a_file_of_exactly_the_limit_is_accepted(limited, db):
    app, headers = limited
    body, content_type = multipart_body(1 * MIB)
    response = app.test_client().post(URL, headers=headers, data=body, content_type=content_type)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == MIB


def test_the_json_body_limit_does_not_apply_to_uploads(app_config, db):
    app = small_app(app_config, 6)
    user = make_user(db, "investigator")
    make_case(db, user, ref=CASE_REF)
    body, content_type = multipart_body(JSON_LIMIT + MIB)
    response = app.test_client().post(URL, headers=bearer(token_for(db, user)), data=body,
                                      content_type=content_type)
    app.extensions["ihl_engine"].dispose()
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == JSON_LIMIT + MIB


def test_a_slow_upload_holds_no_database_lock(live_server, db):
    """While an upload's body trickles in, other requests still write (SQLite: one writer)."""
    user = make_user(db, "investigator")
    make_case(db, user, ref=CASE_REF)
    headers = bearer(token_for(db, user))
    body, content_type = multipart_body(256 * 1024)
    url = urlsplit(live_server["url"])
    with socket.create_connection((url.hostname, url.port), timeout=10) as upload:
        head = (f"POST {URL} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: {headers['Authorization']}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        upload.sendall(head + body[:len(body) // 2])
        time.sleep(0.5)  # the server has begun parsing and waits for the rest
        other = urllib.request.Request(
            f"{live_server['url']}/api/v1/cases", method="POST",
            data=json.dumps({"ref": "NK-2021-002", "title": "Another case"}).encode(),
            headers={**headers, "Content-Type": "application/json"})
        with urllib.request.urlopen(other, timeout=5) as response:
            assert response.status == 201
        upload.sendall(body[len(body) // 2:])
        answer = b""
        while chunk := upload.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
