"""Case pages: the list, opening a case, its page, members, editing with conflicts."""

import re

import pytest
from sqlmodel import select

from ihl_docs.cases import services as case_services
from ihl_docs.core.models import Case, CaseUpdate
from tests.builders import login, make_case, make_incident, make_user
from tests.pages_support import FormPage, case_form, text_of


def stored_case(db, ref) -> Case | None:
    """The case as stored now; the read ends its transaction (SQLite's write lock)."""
    case = db.exec(select(Case).where(Case.ref == ref)
                   .execution_options(populate_existing=True)).first()
    db.commit()
    return case


def parties_of(db, case) -> list[tuple]:
    rows = [(p.name, p.kind, p.state_code) for p in case_services.parties(db, case)]
    db.commit()
    return rows


@pytest.fixture
def investigator(db):
    return make_user(db, "investigator")


@pytest.fixture
def logged_in(client, investigator):
    login(client, investigator)
    return client


def test_case_list_shows_the_cases_one_may_see_with_their_incident_counts(client, db, investigator):
    mine = make_case(db, investigator, title="Shelling of Stepanakert")
    make_incident(db, mine, investigator)
    make_incident(db, mine, investigator)
    stranger = make_user(db, "investigator")
    theirs = make_case(db, stranger, title="Someone else's case")
    login(client, investigator)
    page = text_of(client.get("/"))
    assert f"{mine.ref} Shelling of Stepanakert International 2" in page
    assert theirs.ref not in page
    assert "Someone else's case" not in page
    assert "New case" in page

    admin_client = client.application.test_client()
    login(admin_client, make_user(db, "admin"))
    page = text_of(admin_client.get("/"))
    assert mine.ref in page
    assert f"{theirs.ref} Someone else's case International 0" in page


def test_roles_that_cannot_open_cases_see_no_new_case_button(client, db):
    login(client, make_user(db, "legal"))
    page = text_of(client.get("/"))
    assert "New case" not in page
    assert "There are no cases you can see yet." in page
    assert client.get("/cases/new").status_code == 403


def test_opening_a_case_keeps_the_filled_party_rows_and_makes_the_creator_a_member(
        logged_in, db, investigator):
    response = logged_in.post("/cases/new", data=case_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases/UA-2022-007")
    case = stored_case(db, "UA-2022-007")
    assert (case.title, case.summary, case.conflict_classification) == (
        "Attacks on Mariupol", "Spring 2022.", "international")
    assert parties_of(db, case) == [("Azov regiment", "non-state", None),
                                    ("Russian Federation", "state", "RUS")]
    page = text_of(logged_in.get(response.headers["Location"]))
    assert "Case UA-2022-007 opened. You are its first member." in page
    assert "Russian Federation (state, RUS)" in page
    assert "Azov regiment (non-state armed group)" in page
    assert f"{investigator.email} · Investigator" in page
    assert "No incidents filed yet." in page
    assert "File an incident" in page


@pytest.mark.parametrize("changes, field, message", [
    ({"ref": ""}, "ref", "This field is required."),
    ({"ref": "ua 2022/7"}, "ref", "This is not in the expected form; see the hint below the field."),
    ({"title": " "}, "title", "This field is required."),
    ({"conflict_classification": "civil war"}, "conflict_classification",
     "Choose one of the listed options."),
    ({"parties-0-state_code": ""}, "parties",
     "“Russian Federation”, state code: a state party needs its ISO 3166-1 alpha-3 code."),
    ({"parties-2-state_code": "UKR"}, "parties",
     "“Azov regiment”, state code: a non-state party has no state code."),
    ({"parties-0-state_code": "XXX"}, "parties",
     "“Russian Federation”, state code: 'XXX' is not an ISO 3166-1 alpha-3 country code."),
    ({"parties-2-name": "Russian federation", "parties-2-kind": "state",
      "parties-2-state_code": "RUS"}, "parties",
     "Each party is named once; repeated: Russian Federation, Russian federation."),
])
def test_a_refused_case_form_names_the_problem_and_keeps_the_input(logged_in, db, changes, field,
                                                                   message):
    submitted = case_form(**changes)
    response = logged_in.post("/cases/new", data=submitted)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {field: message}
    for name in ("title", "summary", "parties-0-name", "parties-0-state_code", "parties-2-name"):
        assert page.value(name) == submitted[name].strip(), name
    assert stored_case(db, submitted["ref"].strip().upper()) is None


def test_a_reference_already_in_use_is_refused(logged_in, db, investigator):
    make_case(db, investigator, ref="UA-2022-007", title="The first one")
    response = logged_in.post("/cases/new", data=case_form(ref="ua-2022-007"))
    assert response.status_code == 409
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {"ref": "A case with the reference UA-2022-007 already exists."}
    assert stored_case(db, "UA-2022-007").title == "The first one"


def test_case_page_lists_the_incidents_with_a_link_to_file_one(logged_in, db, investigator):
    case = make_case(db, investigator, summary="Line one.\nLine two.")
    incident = make_incident(db, case, investigator, incident_type="cluster_munition")
    page = logged_in.get(f"/cases/{case.ref}").get_data(as_text=True)
    assert f'href="/incidents/{incident.ref}"' in page
    assert f'href="/cases/{case.ref}/incidents/new"' in page
    assert "Cluster munition" in page
    assert "Line one.\nLine two." in page


def test_members_are_added_by_e_mail(logged_in, db, investigator):
    case = make_case(db, investigator)
    lawyer = make_user(db, "legal", name="Lena Lawyer")
    response = logged_in.post(f"/cases/{case.ref}/members", data={"email": lawyer.email.upper()})
    assert response.status_code == 302
    assert lawyer.email in [u.email for u in case_services.members(db, case)]
    db.commit()
    page = text_of(logged_in.get(f"/cases/{case.ref}"))
    assert f"{lawyer.email} is now a member of {case.ref}." in page
    assert f"Lena Lawyer {lawyer.email} · Legal" in page


@pytest.mark.parametrize("email, status, message", [
    ("nobody@example.org", 404, "No active account with the e-mail nobody@example.org."),
    ("", 422, "This field is required."),
])
def test_adding_an_unknown_member_is_refused_on_the_case_page(logged_in, db, investigator,
                                                               email, status, message):
    case = make_case(db, investigator)
    response = logged_in.post(f"/cases/{case.ref}/members", data={"email": email})
    assert response.status_code == status
    assert FormPage(response.get_data(as_text=True)).errors == {"email": message}
    assert [u.email for u in case_services.members(db, case)] == [investigator.email]
    db.commit()


def test_adding_a_member_twice_is_refused(logged_in, db, investigator):
    case = make_case(db, investigator)
    response = logged_in.post(f"/cases/{case.ref}/members", data={"email": investigator.email})
    assert response.status_code == 409
    assert FormPage(response.get_data(as_text=True)).errors == {
        "email": f"{investigator.email} is already a member of {case.ref}."}


def test_editing_a_case_changes_title_and_parties_and_raises_the_version(logged_in, db,
                                                                         investigator):
    case = make_case(db, investigator)
    page = FormPage(logged_in.get(f"/cases/{case.ref}/edit").get_data(as_text=True))
    assert page.value("title") == "Shelling of the old town"
    assert page.value("version") == "1"
    assert page.value("parties-0-name") == "Group B"
    assert page.value("parties-1-state_code") == "ARM"
    assert "ref" not in page.values
    form = {name: values[0] for name, values in page.values.items() if values}
    form.update({"title": "Shelling of the old town, 2020", "parties-0-name": "",
                 "parties-2-name": "State C", "parties-2-state_code": "AZE"})
    response = logged_in.post(f"/cases/{case.ref}/edit", data=form)
    assert response.status_code == 302
    stored = stored_case(db, case.ref)
    assert (stored.title, stored.version) == ("Shelling of the old town, 2020", 2)
    assert parties_of(db, stored) == [("State A armed forces", "state", "ARM"),
                                      ("State C", "state", "AZE")]


def test_a_second_edit_of_the_same_case_version_is_refused_and_shows_what_changed(
        logged_in, db, investigator):
    case = make_case(db, investigator)
    colleague = make_user(db, "investigator", email="colleague@example.org")
    case_services.add_member(db, case, colleague.email, actor=investigator)
    db.commit()
    page = FormPage(logged_in.get(f"/cases/{case.ref}/edit").get_data(as_text=True))
    form = {name: values[0] for name, values in page.values.items() if values}
    # Meanwhile a colleague saves a change based on the same version.
    case_services.update_case(db, stored_case(db, case.ref), CaseUpdate.model_validate(
        {"title": "Their title", "conflict_classification": "both",
         "parties": [{"name": "State A armed forces", "kind": "state", "state_code": "ARM"},
                     {"name": "Group B", "kind": "non-state"}]}),
        expected_version=1, actor=colleague)
    db.commit()

    form["title"] = "My title"
    response = logged_in.post(f"/cases/{case.ref}/edit", data=form)
    assert response.status_code == 409
    text = text_of(response)
    assert "Changed by someone else" in text
    assert "Nothing was saved" in text
    assert "Title Shelling of the old town Their title colleague@example.org" in text
    assert "Classification of the conflict International Both colleague@example.org" in text
    page = FormPage(response.get_data(as_text=True))
    assert page.value("title") == "My title"
    assert page.errors["conflict_classification"].startswith("Changed by colleague@example.org")
    stored = stored_case(db, case.ref)
    assert (stored.title, stored.conflict_classification, stored.version) == (
        "Their title", "both", 2)


def test_a_party_named_in_an_incident_cannot_be_removed(logged_in, db, investigator):
    case = make_case(db, investigator)
    incident = make_incident(db, case, investigator, responsible_party="Group B")
    page = FormPage(logged_in.get(f"/cases/{case.ref}/edit").get_data(as_text=True))
    form = {name: values[0] for name, values in page.values.items() if values}
    form["parties-0-name"] = ""   # Group B, sorted first
    response = logged_in.post(f"/cases/{case.ref}/edit", data=form)
    assert response.status_code == 422
    errors = FormPage(response.get_data(as_text=True)).errors
    assert errors == {"parties": f"The party Group B is named as responsible in incident "
                                 f"{incident.ref}; change that incident first."}
    assert ("Group B", "non-state", None) in parties_of(db, case)


def test_the_case_form_offers_country_codes_and_enough_empty_rows(logged_in, db, investigator):
    case = make_case(db, investigator)
    body = logged_in.get(f"/cases/{case.ref}/edit").get_data(as_text=True)
    assert '<option value="UKR">Ukraine</option>' in body
    rows = set(re.findall(r'name="parties-(\d+)-name"', body))
    assert len(rows) == 6   # two parties, four empty rows
