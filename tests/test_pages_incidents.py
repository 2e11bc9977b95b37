"""Incident pages: filing, validation messages, editing with conflicts, workflow, lists."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from ihl_docs.cases import services as case_services
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import Incident
from ihl_docs.incidents import services as incident_services
from tests.builders import login, make_case, make_incident, make_user
from tests.pages_support import FormPage, incident_form, text_of


def incidents_in(db, case) -> list[Incident]:
    """The case's incidents as stored now.

    Every read here ends its transaction: the test's session writes, and on SQLite a writing
    session holds the database lock from its first statement until it commits.
    """
    rows = list(db.exec(select(Incident).where(Incident.case_id == case.id)
                        .execution_options(populate_existing=True)))
    db.commit()
    return rows


def fresh(db, incident) -> Incident:
    """The incident as stored now (see incidents_in)."""
    row = db.get(Incident, incident.id, populate_existing=True)
    db.commit()
    return row


@pytest.fixture
def investigator(db):
    return make_user(db, "investigator", name="Ina Investigator")


@pytest.fixture
def case(db, investigator):
    return make_case(db, investigator)


@pytest.fixture
def logged_in(client, investigator):
    login(client, investigator)
    return client


# Filing and showing ------------------------------------------------------------------

def test_new_incident_form_offers_every_field_with_labels_and_required_markers(logged_in, case):
    response = logged_in.get(f"/cases/{case.ref}/incidents/new")
    assert response.status_code == 200
    page = FormPage(response.get_data(as_text=True))
    for name in incident_form():
        assert name in page.values, name
    body = response.get_data(as_text=True)
    assert re.search(r'<label for="title">Title</label>\s*<span class="required"', body)
    assert re.search(r'<label for="occurred_from">Start date</label>\s*<span class="required"', body)
    assert '<option value="Group B">Group B (Non-state)</option>' in body
    assert "Decimal degrees, -90 to 90." in body


def test_filing_an_incident_stores_every_fact_and_shows_it_in_words(logged_in, db, case):
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=incident_form())
    assert response.status_code == 302
    [incident] = incidents_in(db, case)
    assert response.headers["Location"].endswith(f"/incidents/{incident.ref}")
    assert incident.title == "Strike on the district hospital"
    assert incident.occurred_from == datetime(2020, 10, 4, 9, 30, tzinfo=UTC)
    assert incident.occurred_to is None
    assert (incident.latitude, incident.longitude, incident.location_precision_m) == (39.8, 46.75, 50)
    assert (incident.killed_min, incident.killed_max, incident.children_killed) == (2, 4, 1)
    assert (incident.injured_min, incident.injured_max) == (5, None)
    assert sorted(incident.civilian_objects) == ["medical", "residential"]
    assert incident.workflow_status == "draft"
    assert incident.version == 1

    page = text_of(logged_in.get(response.headers["Location"]))
    assert f"Incident {incident.ref} filed as a draft." in page
    for words in ("Attack on medical care", "Partly verified", "2020-10-04 09:30 UTC",
                  "Group B", "Residential, Medical", "2–4, of whom 1 child", "District hospital",
                  "Two rockets hit the east wing.", "Workflow status: Draft", "Filed by"):
        assert words in page, words


def test_an_end_date_without_a_time_means_the_end_of_that_day(logged_in, db, case):
    form = incident_form(occurred_from_time="", occurred_to="2020-10-04", date_precision="day")
    assert logged_in.post(f"/cases/{case.ref}/incidents/new", data=form).status_code == 302
    [incident] = incidents_in(db, case)
    assert incident.occurred_from == datetime(2020, 10, 4, tzinfo=UTC)
    assert incident.occurred_to == datetime(2020, 10, 4, 23, 59, 59, tzinfo=UTC)


TOMORROW = (utcnow() + timedelta(days=1)).date().isoformat()

RULES = [
    ({"title": "   "}, "title", "This field is required."),
    ({"title": "x" * 301}, "title", "Use at most 300 characters."),
    ({"incident_type": ""}, "incident_type", "This field is required."),
    ({"incident_type": "meteor"}, "incident_type", "Choose one of the listed options."),
    ({"occurred_from": ""}, "occurred_from", "This field is required."),
    ({"occurred_from": "2020-13-45"}, "occurred_from", "Enter a date as YYYY-MM-DD."),
    ({"occurred_from_time": "25:61"}, "occurred_from_time",
     "Enter a time as HH:MM (24-hour, local time)."),
    ({"occurred_from": TOMORROW}, "occurred_from", "The start cannot be in the future."),
    ({"occurred_to": TOMORROW}, "occurred_to", "The end cannot be in the future."),
    ({"occurred_to": "2020-10-03"}, "occurred_to", "The end cannot be before the start."),
    ({"occurred_to_time": "10:00"}, "occurred_to_time",
     "Give the end date as well, or leave the end time empty."),
    ({"latitude": "90.5"}, "latitude", "Must be at most 90."),
    ({"latitude": "north"}, "latitude", "Enter a number, e.g. 39.75."),
    ({"latitude": "nan"}, "latitude", "Enter a number, e.g. 39.75."),
    ({"longitude": "-180.5"}, "longitude", "Must be at least -180."),
    ({"longitude": ""}, "longitude", "Give both latitude and longitude, or neither."),
    ({"location_precision_m": "-5"}, "location_precision_m", "Must be at least 0."),
    ({"country": "ZZZ"}, "country", "'ZZZ' is not an ISO 3166-1 alpha-3 country code."),
    ({"killed_min": "5", "killed_max": "2"}, "killed_max",
     "The maximum killed cannot be below the minimum."),
    ({"killed_min": "-1", "killed_max": ""}, "killed_min", "Must be at least 0."),
    ({"killed_min": "two"}, "killed_min", "Enter a whole number, e.g. 3."),
    ({"children_killed": "5"}, "children_killed", "Children killed cannot exceed the total killed."),
    ({"injured_min": "1", "injured_max": "3", "children_injured": "4"}, "children_injured",
     "Children injured cannot exceed the total injured."),
    ({"injured_min": "9", "injured_max": "3"}, "injured_max",
     "The maximum injured cannot be below the minimum."),
    ({"responsible_party": "Somebody else"}, "responsible_party", "Choose one of the listed options."),
    ({"civilian_objects": ["school", "spaceport"]}, "civilian_objects",
     "Choose only among the listed options."),
    ({"verification_status": "certain"}, "verification_status", "Choose one of the listed options."),
]


@pytest.mark.parametrize("changes, field, message", RULES,
                         ids=[f"{r[1]}-{i}" for i, r in enumerate(RULES)])
def test_each_rule_puts_its_message_next_to_its_field_and_keeps_the_input(
        logged_in, db, case, changes, field, message):
    submitted = incident_form(**changes)
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=submitted)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {field: message}
    for name in ("title", "place_name", "narrative", "killed_min", "latitude", "occurred_from"):
        assert page.value(name) == submitted[name].strip() or name == field, name
    if field != "civilian_objects":
        assert sorted(page.values["civilian_objects"]) == ["medical", "residential"]
    if field not in ("incident_type", "responsible_party", "verification_status"):
        assert page.value("responsible_party") == "Group B"
    assert incidents_in(db, case) == []


def test_several_wrong_fields_are_all_named_at_once(logged_in, db, case):
    form = incident_form(title="", latitude="120", killed_min="5", killed_max="1")
    page = FormPage(logged_in.post(f"/cases/{case.ref}/incidents/new", data=form)
                    .get_data(as_text=True))
    assert set(page.errors) == {"title", "latitude", "killed_max"}
    assert incidents_in(db, case) == []


# Editing ------------------------------------------------------------------------------

def test_edit_form_shows_the_stored_values_and_saving_raises_the_version(logged_in, db, case,
                                                                          investigator):
    incident = make_incident(db, case, investigator, responsible_party="Group B")
    page = FormPage(logged_in.get(f"/incidents/{incident.ref}/edit").get_data(as_text=True))
    assert page.value("title") == "Rocket strike on market"
    # 09:30 UTC, in Armenia's zone (the country's only one, taken on filing)
    assert (page.value("occurred_from"), page.value("occurred_from_time")) == ("2020-10-04", "13:30")
    assert page.values["time_zone"] == ["Asia/Yerevan"]
    assert page.value("responsible_party") == "Group B"
    assert page.values["civilian_objects"] == ["market"]
    assert page.value("version") == "1"

    form = {name: (values if name == "civilian_objects" else values[0])
            for name, values in page.values.items() if values or name == "civilian_objects"}
    form.update(title="Rocket strike on the covered market", killed_max="6")
    response = logged_in.post(f"/incidents/{incident.ref}/edit", data=form)
    assert response.status_code == 302
    stored = fresh(db, incident)
    assert (stored.title, stored.killed_max, stored.version) == (
        "Rocket strike on the covered market", 6, 2)
    assert stored.occurred_from == datetime(2020, 10, 4, 9, 30, tzinfo=UTC)
    history = text_of(logged_in.get(f"/incidents/{incident.ref}"))
    assert "Title: Rocket strike on market → Rocket strike on the covered market" in history
    assert "Civilians killed: at most: 4 → 6" in history


def test_saving_an_unchanged_form_changes_nothing(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator)
    page = FormPage(logged_in.get(f"/incidents/{incident.ref}/edit").get_data(as_text=True))
    form = {name: (values if name == "civilian_objects" else values[0])
            for name, values in page.values.items() if values or name == "civilian_objects"}
    assert logged_in.post(f"/incidents/{incident.ref}/edit", data=form).status_code == 302
    assert fresh(db, incident).version == 1


def test_edit_with_a_broken_rule_saves_nothing(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator)
    form = incident_form(title="Changed", killed_min="9", killed_max="3", version="1")
    response = logged_in.post(f"/incidents/{incident.ref}/edit", data=form)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {"killed_max": "The maximum killed cannot be below the minimum."}
    assert page.value("title") == "Changed"
    assert fresh(db, incident).title == "Rocket strike on market"


def test_a_second_edit_of_the_same_version_is_refused_and_shows_what_changed(
        client, db, case, investigator):
    colleague = make_user(db, "investigator", email="colleague@example.org")
    case_services.add_member(db, case, colleague.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator)
    login(client, investigator)
    first = incident_form(title="Rocket strike, first account", killed_max="7", version="1")
    assert client.post(f"/incidents/{incident.ref}/edit", data=first).status_code == 302

    other = client.application.test_client()
    login(other, colleague)
    second = incident_form(title="Rocket strike, second account", narrative="Mine.", version="1")
    response = other.post(f"/incidents/{incident.ref}/edit", data=second)
    assert response.status_code == 409
    text = text_of(response)
    assert "Changed by someone else" in text
    assert "changed by someone else since you opened it" in text
    assert "Nothing was saved" in text
    assert re.search(r"Title Rocket strike on market Rocket strike, first account "
                     r"\S+@example\.org", text)
    assert "Civilians killed: at most 4 7" in text
    page = FormPage(response.get_data(as_text=True))
    assert page.value("title") == "Rocket strike, second account"   # the user's input is kept
    assert page.value("narrative") == "Mine."
    assert page.errors["title"].startswith("Changed by investigator")
    assert page.value("version") == "2"   # a deliberate second save is based on what is stored

    stored = fresh(db, incident)
    assert (stored.title, stored.narrative, stored.version) == (
        "Rocket strike, first account", "Two rockets hit the east wing.", 2)


def test_an_approved_incident_cannot_be_edited(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator)
    admin = make_user(db, "admin")
    for step in ("submitted", "in_legal_review", "approved"):
        incident = incident_services.change_status(db, fresh(db, incident), step,
                                                   expected_version=incident.version, actor=admin,
                                                   note="Facts checked by the lawyer in person.")
        db.commit()
    assert "Edit incident" not in text_of(logged_in.get(f"/incidents/{incident.ref}"))
    response = logged_in.post(f"/incidents/{incident.ref}/edit",
                              data=incident_form(version=str(incident.version)))
    assert response.status_code == 403
    assert fresh(db, incident).title == "Rocket strike on market"


# Workflow -----------------------------------------------------------------------------

def test_workflow_investigator_submits_lawyer_reviews_and_approves(client, db, case, investigator):
    lawyer = make_user(db, "legal")
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, verification_status="verified")
    url = f"/incidents/{incident.ref}/status"

    login(client, investigator)
    assert "Submit for legal review" in text_of(client.get(f"/incidents/{incident.ref}"))
    assert client.post(url, data={"to": "submitted", "version": "1"}).status_code == 302
    assert fresh(db, incident).workflow_status == "submitted"
    page = text_of(client.get(f"/incidents/{incident.ref}"))
    assert "is now: Submitted" in page
    assert "Approve" not in page

    response = client.post(url, data={"to": "in_legal_review", "version": "2"})
    assert response.status_code == 403
    assert fresh(db, incident).workflow_status == "submitted"

    lawyer_client = client.application.test_client()
    login(lawyer_client, lawyer)
    assert lawyer_client.post(url, data={"to": "in_legal_review", "version": "2"}).status_code == 302
    assert fresh(db, incident).workflow_status == "in_legal_review"

    response = client.post(url, data={"to": "approved", "version": "3"})
    assert response.status_code == 403
    assert fresh(db, incident).workflow_status == "in_legal_review"

    page = text_of(lawyer_client.get(f"/incidents/{incident.ref}"))
    assert "Approve" in page
    assert "the facts are verified: no note is needed" in page
    assert lawyer_client.post(url, data={"to": "approved", "version": "3"}).status_code == 302
    stored = fresh(db, incident)
    assert (stored.workflow_status, stored.version) == ("approved", 4)
    history = text_of(lawyer_client.get(f"/incidents/{incident.ref}"))
    assert "Workflow status: In legal review → Approved" in history


def test_a_status_change_from_a_stale_page_is_refused(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator)
    incident_services.update_incident(db, incident, {"title": "Renamed"}, expected_version=1,
                                      actor=investigator)
    db.commit()
    response = logged_in.post(f"/incidents/{incident.ref}/status",
                              data={"to": "submitted", "version": "1"})
    assert response.status_code == 409
    assert "Title Rocket strike on market Renamed" in text_of(response)
    stored = fresh(db, incident)
    assert (stored.workflow_status, stored.version) == ("draft", 2)


def test_a_status_change_without_a_version_is_refused(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator)
    response = logged_in.post(f"/incidents/{incident.ref}/status", data={"to": "submitted"})
    assert response.status_code == 422
    assert fresh(db, incident).workflow_status == "draft"


# Lists, filters, pagination ----------------------------------------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "PAGE_SIZE": 3}


@pytest.fixture
def many(db, case, investigator):
    """Seven incidents in the case, one each of a few types, on successive days."""
    kinds = ["shelling", "shelling", "air_strike", "rocket", "shelling", "landmine", "shelling"]
    made = []
    for day, kind in enumerate(kinds, start=1):
        made.append(make_incident(db, case, investigator, incident_type=kind,
                                  title=f"{kind} number {day}",
                                  occurred_from=datetime(2021, 3, day, 12, tzinfo=UTC),
                                  place_name="Kherson" if day == 4 else "Mariupol"))
    return made


def refs_on(response) -> list[str]:
    return re.findall(r'href="/incidents/([A-Z0-9-]+-I\d{3})"', response.get_data(as_text=True))


def test_list_filters_by_type_and_pages_keep_the_filter(logged_in, many):
    response = logged_in.get("/incidents?incident_type=shelling")
    assert response.status_code == 200
    assert refs_on(response) == [many[6].ref, many[4].ref, many[1].ref]  # newest first
    assert "4 incidents, page 1 of 2." in text_of(response)
    body = response.get_data(as_text=True)
    assert 'href="/incidents?incident_type=shelling&amp;page=2"' in body
    second = logged_in.get("/incidents?incident_type=shelling&page=2")
    assert refs_on(second) == [many[0].ref]


@pytest.mark.parametrize("query, expected", [
    ("q=kherson", [3]),
    ("q=AIR_STRIKE+number", [2]),
    ("date_from=2021-03-06", [6, 5]),
    ("date_to=2021-03-02", [1, 0]),
    ("date_from=2021-03-03&date_to=2021-03-03", [2]),
    ("workflow_status=submitted", []),
    ("verification_status=unverified&incident_type=landmine", [5]),
])
def test_list_filters(logged_in, many, query, expected):
    response = logged_in.get(f"/incidents?{query}")
    assert response.status_code == 200
    assert refs_on(response) == [many[i].ref for i in expected][:3]


def test_case_incident_list_filters_within_the_case(logged_in, db, investigator, many):
    other = make_case(db, investigator)
    make_incident(db, other, investigator, incident_type="landmine")
    response = logged_in.get(f"/cases/{many[0].ref.rsplit('-I', 1)[0]}/incidents"
                             "?incident_type=landmine")
    assert refs_on(response) == [many[5].ref]
    everywhere = logged_in.get("/incidents?incident_type=landmine")
    assert len(refs_on(everywhere)) == 2


@pytest.mark.parametrize("query, field", [
    ("page=abc", None), ("page=-3", None), ("page=", None), ("page=" + "9" * 30, None),
    ("ref=X&_external=1&_anchor=x&case=Y", None), ("date_to=9999-12-31", None),
    ("date_from=0001-01-01", None),
    ("date_from=garbage", "date_from"), ("date_to=2021-02-30", "date_to"),
    ("incident_type=unknown", "incident_type"), ("workflow_status=%00", "workflow_status"),
])
def test_bad_query_arguments_are_named_or_ignored(logged_in, many, query, field):
    response = logged_in.get(f"/incidents?{query}")
    assert response.status_code == 200
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == ([field] if field else [])
    last_page = query.startswith("page=9")
    assert len(refs_on(response)) == (1 if last_page else 3)
    links = re.findall(r'href="(/incidents\?[^"]*)"', html.unescape(response.get_data(as_text=True)))
    assert links
    assert all(re.fullmatch(r"/incidents\?([a-z_]+=[^&]*&)*page=\d", link)
                         for link in links)
    assert all("_external" not in link and "ref=" not in link for link in links)


def test_a_page_past_the_end_shows_the_last_page(logged_in, many):
    response = logged_in.get("/incidents?page=999")
    assert refs_on(response) == [many[0].ref]
    assert "page 3 of 3" in text_of(response)


def test_incident_list_shows_only_cases_the_user_may_see(client, db, investigator, case):
    mine = make_incident(db, case, investigator)
    stranger = make_user(db, "investigator")
    theirs = make_incident(db, make_case(db, stranger), stranger)
    login(client, investigator)
    assert refs_on(client.get("/incidents")) == [mine.ref]
    auditor_client = client.application.test_client()
    login(auditor_client, make_user(db, "auditor"))
    assert set(refs_on(auditor_client.get("/incidents"))) == {mine.ref, theirs.ref}
