"""Settings of a team deployment: behind a reverse proxy (IHL_PROXIES)."""

from ihl_docs import create_app
from tests.api_support import bearer, token_for
from tests.builders import make_case, make_user

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "ihl.example.org"}


def next_link(application, db) -> str:
    user = make_user(db, "admin")
    for n in range(3):
        make_case(db, user, ref=f"PX-2020-00{n + 1}")
    client = application.test_client()
    body = client.get("/api/v1/cases?limit=1", headers={**bearer(token_for(db, user)),
                                                        **FORWARDED}).get_json()
    return body["next"]


def test_forwarded_headers_are_ignored_without_a_proxy(app, db):
    assert next_link(app, db).startswith("http://localhost/api/v1/cases?")


def test_behind_a_proxy_links_name_the_public_scheme_and_host(app_config, tmp_path, monkeypatch,
                                                              db):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "proxied"))
    monkeypatch.setenv("IHL_PROXIES", "1")
    application = create_app(app_config)
    try:
        assert application.config["PROXIES"] == 1
        assert next_link(application, db).startswith("https://ihl.example.org/api/v1/cases?")
    finally:
        application.extensions["ihl_engine"].dispose()
