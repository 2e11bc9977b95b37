"""Evidence pages on an instance with a small upload limit (1 MiB) and short list pages."""

import re

import pytest

from ihl_docs import create_app
from tests.builders import PASSWORD, login, make_case, make_evidence, make_user
from tests.pages_support import FormPage, items_in, post_upload_in_memory, stored_files, text_of

MIB = 1024 * 1024


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_UPLOAD_MB": 1, "PAGE_SIZE": 2}


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def investigator(db):
    return make_user(db, "investigator")


@pytest.fixture
def case(db, investigator):
    return make_case(db, investigator)


@pytest.fixture
def logged_in(client, investigator):
    login(client, investigator)
    return client


def test_a_file_of_exactly_the_limit_is_accepted(logged_in, db, case, store):
    response = post_upload_in_memory(logged_in, case, data=b"%PDF-1.4\n" + b"x" * (MIB - 9),
                                     kind="document", filename="report.pdf")
    assert response.status_code == 302
    [item] = items_in(db, case)
    assert (item.size, item.media_type) == (MIB, "application/pdf")


def test_a_file_over_the_limit_is_refused_next_to_the_file_and_not_kept(logged_in, db, case,
                                                                       store):
    response = post_upload_in_memory(logged_in, case, data=b"%PDF-1.4\n" + b"x" * MIB,
                                     kind="document")
    assert response.status_code == 413
    assert FormPage(response.get_data(as_text=True)).errors == {
        "file": "The file is larger than the 1 MiB this instance accepts."}
    assert items_in(db, case) == []
    assert stored_files(store) == []


def test_a_request_over_the_limit_is_refused_before_the_page_with_the_limit_in_mib(
        logged_in, db, case, store):
    response = post_upload_in_memory(logged_in, case, data=b"x" * (3 * MIB), kind="document")
    assert response.status_code == 413
    assert "The upload is larger than the 1 MiB this instance accepts." in text_of(response)
    assert items_in(db, case) == []
    assert stored_files(store) == []


def test_with_csrf_on_a_request_over_the_limit_gets_the_same_page(app_config, tmp_path,
                                                                  monkeypatch, db, case,
                                                                  investigator):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "protected-instance"))
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    try:
        client = application.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        client.post("/login", data={"email": investigator.email, "password": PASSWORD,
                                    "csrf_token": token})
        response = post_upload_in_memory(client, case, data=b"x" * (3 * MIB), kind="document",
                                         csrf_token=token)
        assert response.status_code == 413
        assert "The upload is larger than the 1 MiB this instance accepts." in text_of(response)
        assert stored_files(application.extensions["ihl_store"]) == []
    finally:
        application.extensions["ihl_engine"].dispose()


@pytest.fixture
def five(db, case, investigator, store):
    kinds = ["document", "photo", "document", "document", "expert_report"]
    return [make_evidence(db, case, investigator, store, f"%PDF-1.4 {n}".encode(), kind=kind,
                          title=f"Item {n}") for n, kind in enumerate(kinds, 1)]


def refs_on(response) -> list[str]:
    return re.findall(r'<td class="nowrap"><a href="/evidence/([^"]+)"',
                      response.get_data(as_text=True))


def test_the_list_is_paged_and_the_pages_keep_the_filter(logged_in, case, five):
    first = logged_in.get(f"/cases/{case.ref}/evidence")
    assert "5 items, page 1 of 3." in text_of(first)
    assert refs_on(first) == [five[0].ref, five[1].ref]
    filtered = logged_in.get(f"/cases/{case.ref}/evidence?kind=document")
    assert "3 items, page 1 of 2." in text_of(filtered)
    next_link = re.search(r'<a href="([^"]+)" rel="next">', filtered.get_data(as_text=True))[1]
    assert "kind=document" in next_link
    assert "page=2" in next_link
    second = logged_in.get(next_link.replace("&amp;", "&"))
    assert refs_on(second) == [five[3].ref]


def test_a_page_past_the_end_shows_the_last_page(logged_in, case, five):
    response = logged_in.get(f"/cases/{case.ref}/evidence?page=99")
    assert "page 3 of 3" in text_of(response)
    assert refs_on(response) == [five[4].ref]
