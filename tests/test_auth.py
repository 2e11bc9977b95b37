"""Accounts: argon2id hashes, throttled log-in, session cookies, logout, one-time passwords."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from ihl_docs import create_app
from ihl_docs.auth import services as auth
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import LoginSession, LoginThrottle, User
from tests.builders import PASSWORD, login, make_user


def test_password_is_stored_as_argon2id(db):
    user = make_user(db, "legal")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_and_wrong_password(client, db):
    user = make_user(db, "investigator")
    wrong = login(client, user, "not the password at all")
    assert wrong.status_code == 401
    assert b"Wrong e-mail or password." in wrong.data
    ok = login(client, user)
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("known", [True, False])
def test_throttling_after_ten_failures_same_for_unknown_accounts(client, db, known):
    email = make_user(db, "investigator").email if known else "nobody@example.org"
    for _ in range(10):
        assert login(client, email, "wrong password guess").status_code == 401
    refused = login(client, email, PASSWORD)
    assert refused.status_code == 429
    assert b"Too many failed attempts" in refused.data
    assert client.get("/").status_code == 302  # still not logged in


def test_throttle_expires_and_success_resets(client, db):
    user = make_user(db, "investigator")
    for _ in range(10):
        login(client, user, "wrong password guess")
    throttle = db.exec(select(LoginThrottle)).one()
    throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.add(throttle)
    db.commit()
    assert login(client, user).status_code == 302
    db.expire_all()
    assert db.exec(select(LoginThrottle)).all() == []


def test_throttle_key_does_not_store_the_email(client, db):
    login(client, "someone@example.org", "wrong password guess")
    throttle = db.exec(select(LoginThrottle)).one()
    assert "someone" not in throttle.key


def test_session_cookie_flags(client, db):
    user = make_user(db, "auditor")
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert client.application.permanent_session_lifetime <= timedelta(hours=12)


def test_secure_cookie_when_configured(app_config, db, monkeypatch, tmp_path):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("IHL_SECURE_COOKIES", "1")
    monkeypatch.setenv("IHL_SESSION_HOURS", "48")
    app = create_app(app_config)
    assert app.permanent_session_lifetime == timedelta(hours=12)
    user = make_user(db, "auditor")
    response = login(app.test_client(), user)
    assert "Secure" in response.headers["Set-Cookie"]
    app.extensions["ihl_engine"].dispose()


def test_cookie_holds_no_user_data(client, db):
    user = make_user(db, "investigator", email="witness.handler@example.org")
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "witness" not in cookie
    assert str(user.id) not in cookie.split(";")[0].split("=")[1][:2]


def test_logout_ends_the_session_server_side(client, db):
    user = make_user(db, "investigator")
    login(client, user)
    stolen = client.get_cookie("ihl_session").value
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    # replaying the old cookie does not bring the session back
    client.set_cookie("ihl_session", stolen)
    assert client.get("/").status_code == 302
    db.expire_all()
    assert all(s.ended_at is not None for s in db.exec(select(LoginSession)).all())


def test_expired_session_is_refused(client, db):
    user = make_user(db, "investigator")
    login(client, user)
    row = db.exec(select(LoginSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert client.get("/").status_code == 302


def test_logout_needs_post(client, db):
    login(client, make_user(db, "investigator"))
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_deactivated_user_loses_access(client, db):
    user = make_user(db, "investigator")
    login(client, user)
    user.is_active = False
    db.add(user)
    db.commit()
    assert client.get("/").status_code == 302


def _kept_password(app) -> str:
    """The one-time password `ihl init` keeps in the instance folder."""
    return (Path(app.instance_path) / "first-admin-password.txt").read_text().split()[1]


def test_one_time_password_must_be_changed(client, db, runner):
    runner.invoke(args=["init"])
    password = _kept_password(runner.app)
    assert login(client, "admin@example.org", password).status_code == 302
    assert client.get("/").headers["Location"].endswith("/account/password")
    short = client.post("/account/password", data={
        "current_password": password, "new_password": "short", "confirm": "short"})
    assert b"at least 12" in short.data
    changed = client.post("/account/password", data={
        "current_password": password, "new_password": "a long new passphrase",
        "confirm": "a long new passphrase"})
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    db.expire_all()
    admin = db.exec(select(User).where(User.email == "admin@example.org")).one()
    assert admin.must_change_password is False
    assert auth.verify_password(admin.password_hash, "a long new passphrase")
    assert not (Path(runner.app.instance_path) / "first-admin-password.txt").exists()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_does_not_redirect_off_site(client, db, target):
    user = make_user(db, "investigator")
    response = client.post(f"/login?next={target}",
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
