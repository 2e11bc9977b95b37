"""User administration pages (administrators only)."""

import re

import pytest
from sqlmodel import select

from ihl_docs.core.models import User
from tests.builders import login, make_user
from tests.pages_support import FormPage, text_of


def stored_user(db, email) -> User | None:
    """The account as stored now; the read ends its transaction (SQLite's write lock)."""
    user = db.exec(select(User).where(User.email == email)
                   .execution_options(populate_existing=True)).first()
    db.commit()
    return user


@pytest.fixture
def admin_client(client, db):
    login(client, make_user(db, "admin", email="root@example.org"))
    return client


def test_the_user_list_shows_every_account_with_its_role(admin_client, db):
    make_user(db, "auditor", email="audrey@example.org", name="Audrey Auditor")
    page = text_of(admin_client.get("/admin/users/"))
    assert "audrey@example.org Audrey Auditor Auditor Active" in page
    assert "root@example.org" in page
    assert "New user" in page


def test_an_account_with_a_chosen_password_can_log_in(admin_client, db):
    response = admin_client.post("/admin/users/new", data={
        "email": "Lena@Example.org", "name": "Lena Lawyer", "role": "legal",
        "password": "a long enough passphrase"})   # must_change_password left unticked
    assert response.status_code == 302
    assert "Account lena@example.org created." in text_of(admin_client.get("/admin/users/"))
    user = stored_user(db, "lena@example.org")
    assert (user.name, user.role, user.must_change_password) == ("Lena Lawyer", "legal", False)
    other = admin_client.application.test_client()
    assert login(other, "lena@example.org", "a long enough passphrase").status_code == 302
    assert other.get("/").status_code == 200


def test_a_generated_password_is_shown_once_and_must_be_changed(admin_client, db):
    response = admin_client.post("/admin/users/new", data={
        "email": "ivan@example.org", "role": "investigator", "password": ""})
    assert response.status_code == 200
    [password] = re.findall(r'<p class="secret"><code>([^<]+)</code>', response.get_data(as_text=True))
    assert len(password) >= 12
    assert "It is shown only this once." in text_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert password not in admin_client.get("/admin/users/").get_data(as_text=True)
    assert stored_user(db, "ivan@example.org").must_change_password is True

    other = admin_client.application.test_client()
    assert login(other, "ivan@example.org", password).status_code == 302
    assert other.get("/").headers["Location"].endswith("/account/password")


@pytest.mark.parametrize("fields, status, field, message", [
    ({"email": "root@example.org"}, 409, "email", "An account for root@example.org already exists."),
    ({"email": "not an address"}, 422, "email", None),
    ({"email": ""}, 422, "email", "This field is required."),
    ({"password": "short"}, 422, "password", "The password must have at least 12 characters."),
    ({"role": "superuser"}, 422, "role", "Choose one of the listed options."),
])
def test_a_refused_account_is_explained_next_to_the_field(admin_client, db, fields, status, field,
                                                          message):
    data = {"email": "new@example.org", "name": "New Person", "role": "auditor",
            "password": "a long enough passphrase", **fields}
    response = admin_client.post("/admin/users/new", data=data)
    assert response.status_code == status
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == [field]
    if message:
        assert page.errors[field] == message
    assert page.value("name") == "New Person"
    assert page.value("email") == data["email"]
    assert page.value("password") == ""   # a password is never sent back
    count = len(db.exec(select(User)).all())
    db.commit()
    assert count == 1


def test_deactivation_ends_sessions_and_tokens_and_is_audited(admin_client, db):
    from ihl_docs.auth import services as auth
    from ihl_docs.core.models import AuditEntry

    lena = make_user(db, "legal", email="lena@example.org")
    token = auth.create_token(db, lena.email, actor="test")
    db.commit()
    hers = admin_client.application.test_client()
    login(hers, lena)
    assert hers.get("/").status_code == 200

    response = admin_client.post(f"/admin/users/{lena.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert "Account lena@example.org deactivated." in text_of(admin_client.get("/admin/users/"))
    assert hers.get("/").status_code == 302
    api = hers.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    assert login(hers, lena).status_code == 401
    assert stored_user(db, lena.email).is_active is False
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity_id == lena.email)).all()
    db.commit()
    assert actions[-1] == "deactivate"

    admin_client.post(f"/admin/users/{lena.id}/active", data={"active": "1"})
    assert login(hers, lena).status_code == 302


def test_an_admin_cannot_deactivate_themself_and_others_cannot_at_all(admin_client, db, client):
    me = stored_user(db, "root@example.org")
    admin_client.post(f"/admin/users/{me.id}/active", data={"active": "0"})
    assert stored_user(db, "root@example.org").is_active is True
    investigator = make_user(db, "investigator")
    other = admin_client.application.test_client()
    login(other, investigator)
    assert other.post(f"/admin/users/{me.id}/active", data={"active": "0"}).status_code == 403
    assert stored_user(db, "root@example.org").is_active is True
    assert admin_client.post("/admin/users/99999/active", data={"active": "0"}).status_code == 404
