"""Bearer tokens: who may call the API at all, and that it never touches the session cookie."""

import pytest
from sqlmodel import select

from ihl_docs import create_app
from ihl_docs.api.routes import ROUTES
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import ApiToken
from tests.api_support import bearer, token_for
from tests.builders import login, make_user

SECURED = [r for r in ROUTES if not r.public]


def _path(route) -> str:
    return "/api/v1" + route.path.replace("{ref}", "NK-2020-001")


@pytest.mark.parametrize("route", SECURED, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer ", "Basic dXNlcjpwdw==",
                                           "Bearer ihl_unknown", "Bearer " + "x" * 5000,
                                           "Bearer ihl_\x7f"])
def test_every_secured_route_refuses_a_missing_or_bad_token(client, db, world, route,
                                                            authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.open(_path(route), method=route.method, headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.get_json()["error"]
    assert error["code"] == "unauthorised"
    assert error["message"]


def test_an_unknown_token_is_named_invalid_in_the_challenge(client, db):
    response = client.get("/api/v1/cases", headers=bearer("ihl_nonsense"))
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_openapi_document_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_a_valid_token_is_accepted_and_the_scheme_is_case_insensitive(client, db):
    token = token_for(db, make_user(db, "auditor"))
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    response = client.get("/api/v1/cases", headers={"Authorization": f"bearer  {token} "})
    assert response.status_code == 200


def test_a_revoked_token_is_refused(client, db):
    user = make_user(db, "admin")
    token = token_for(db, user)
    row = db.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    row.revoked_at = utcnow()
    db.add(row)
    db.commit()
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401


def test_a_disabled_account_token_is_refused(client, db):
    user = make_user(db, "admin")
    token = token_for(db, user)
    user.is_active = False
    db.add(user)
    db.commit()
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401


def test_the_api_sets_no_cookie_and_is_not_cached(client, db):
    token = token_for(db, make_user(db, "admin"))
    response = client.post("/api/v1/cases", headers=bearer(token),
                           json={"ref": "NK-2020-002", "title": "Siege"})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_login_cookie_neither_authenticates_nor_is_touched(client, db):
    user = make_user(db, "admin")
    token = token_for(db, user)
    assert login(client, user).status_code == 302
    assert client.get("/api/v1/cases").status_code == 401
    response = client.get("/api/v1/cases", headers=bearer(token))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_api_is_exempt_from_csrf(app_config, db):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    token = token_for(db, make_user(db, "investigator"))
    response = app.test_client().post("/api/v1/cases", headers=bearer(token),
                                      json={"ref": "NK-2020-003", "title": "Siege"})
    app.extensions["ihl_engine"].dispose()
    assert response.status_code == 201, response.get_json()


def test_an_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_wrong_method_answers_json(client, db):
    token = token_for(db, make_user(db, "admin"))
    response = client.delete("/api/v1/cases", headers=bearer(token))
    assert response.status_code == 405
    assert "error" in response.get_json()
