"""With CSRF protection on, as in production: a form POST without the page's token is refused."""

import re

from sqlmodel import select

from ihl_docs.core.models import Case, Incident
from tests.builders import PASSWORD, make_case, make_incident, make_user
from tests.pages_support import case_form, log_in, token_from


def cases_named(db, ref):
    rows = db.exec(select(Case).where(Case.ref == ref)).all()
    db.commit()
    return rows


def test_log_in_without_the_token_is_refused(protected_client, db):
    user = make_user(db, "investigator")
    response = protected_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired or did not come from this site." in response.get_data(as_text=True)
    assert protected_client.get("/").status_code == 302   # still not logged in


def test_new_case_without_the_token_is_refused_and_creates_nothing(protected_client, db):
    log_in(protected_client, make_user(db, "investigator"))
    response = protected_client.post("/cases/new", data=case_form())
    assert response.status_code == 400
    assert cases_named(db, "UA-2022-007") == []


def test_new_case_with_a_wrong_token_is_refused(protected_client, db):
    log_in(protected_client, make_user(db, "investigator"))
    token = token_from(protected_client.get("/cases/new"))
    response = protected_client.post("/cases/new", data={**case_form(), "csrf_token": token[:-2]})
    assert response.status_code == 400
    assert cases_named(db, "UA-2022-007") == []


def test_new_case_with_the_token_from_the_form_succeeds(protected_client, db):
    log_in(protected_client, make_user(db, "investigator"))
    token = token_from(protected_client.get("/cases/new"))
    response = protected_client.post("/cases/new", data={**case_form(), "csrf_token": token})
    assert response.status_code == 302
    assert [c.title for c in cases_named(db, "UA-2022-007")] == ["Attacks on Mariupol"]


def test_workflow_buttons_carry_the_token(protected_client, db):
    user = make_user(db, "investigator")
    incident = make_incident(db, make_case(db, user), user)
    log_in(protected_client, user)
    url = f"/incidents/{incident.ref}/status"
    assert protected_client.post(url, data={"to": "submitted", "version": "1"}).status_code == 400
    page = protected_client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    [token] = re.findall(rf'action="{url}"[^>]*>\s*<input type="hidden" name="csrf_token" '
                         r'value="([^"]+)"', page)
    response = protected_client.post(url, data={"to": "submitted", "version": "1",
                                                "csrf_token": token})
    assert response.status_code == 302
    stored = db.get(Incident, incident.id, populate_existing=True)
    db.commit()
    assert stored.workflow_status == "submitted"
