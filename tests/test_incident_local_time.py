"""An incident's local time through the API, the pages and the dossier.

The case every test comes back to: a strike at 00:30 local time on 4 October 2020 in Baku
(UTC+4) is stored as 20:30 UTC on 3 October; it must read as 4 October wherever it is shown,
with its offset and the UTC time beside it."""

import json

import pytest
from sqlmodel import select

from ihl_docs.core.models import AuditEntry, Incident
from ihl_docs.dossiers import content, templating
from ihl_docs.evidence import services as evidence_services
from tests.api_support import CASE_REF, error_of
from tests.builders import (
    jpeg_with_exif,
    login,
    make_case,
    make_evidence,
    make_incident,
    make_user,
)
from tests.pages_support import FormPage, incident_form, text_of

STRIKE_LOCAL = "2020-10-04T00:30:00+04:00"
STRIKE_TEXT = "2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)"
UNKNOWN_TEXT = "UTC (local offset not recorded)"
BASE = {"title": "Strike on the bus station", "incident_type": "rocket",
        "occurred_from": STRIKE_LOCAL, "date_precision": "exact", "country": "AZE"}


def _file(client, world, **changes):
    return client.post(f"/api/v1/cases/{CASE_REF}/incidents",
                       headers=world["headers"]["member_investigator"], json={**BASE, **changes})


def _count(db) -> int:
    count = len(db.exec(select(Incident)).all())
    db.commit()
    return count


# ---- the API ----------------------------------------------------------------------------------

def test_the_strike_after_midnight_is_stored_in_utc_and_read_in_local_time(client, world):
    response = _file(client, world, time_zone="Asia/Baku")
    assert response.status_code == 201, response.get_json()
    incident = response.get_json()
    # the same instant, written with the offset it happened at (INTERFACES: keep the offset)
    assert incident["occurred_from"] == "2020-10-04T00:30:00+04:00"
    assert incident["time_zone"] == "Asia/Baku"
    assert incident["utc_offset_minutes"] is None
    assert incident["occurred_from_local"] == STRIKE_LOCAL
    assert incident["occurred_to_local"] is None
    assert incident["local_date"] == "2020-10-04"
    shown = client.get(f"/api/v1/incidents/{incident['ref']}",
                       headers=world["headers"]["auditor"]).get_json()
    assert shown["occurred_from_local"] == STRIKE_LOCAL
    assert shown["local_date"] == "2020-10-04"


def test_the_offset_written_in_the_time_is_recorded_when_no_zone_is_given(client, world):
    incident = _file(client, world, country="UKR").get_json()
    assert (incident["time_zone"], incident["utc_offset_minutes"]) == ("", 240)
    assert incident["occurred_from_local"] == STRIKE_LOCAL
    assert incident["local_date"] == "2020-10-04"


def test_a_country_with_one_zone_gives_the_zone(client, world):
    incident = _file(client, world, occurred_from="2020-10-03T20:30:00Z").get_json()
    assert incident["time_zone"] == "Asia/Baku"
    assert incident["local_date"] == "2020-10-04"
    armenia = _file(client, world, occurred_from="2020-10-03T20:30:00Z", country="ARM").get_json()
    assert armenia["time_zone"] == "Asia/Yerevan"


def test_an_offset_that_agrees_with_the_countrys_zone_gives_the_zone(client, world):
    agreeing = _file(client, world).get_json()  # AZE, written at +04:00
    assert (agreeing["time_zone"], agreeing["utc_offset_minutes"]) == ("Asia/Baku", None)
    other = _file(client, world, occurred_from="2020-10-04T01:30:00+05:00").get_json()
    assert (other["time_zone"], other["utc_offset_minutes"]) == ("", 300)
    assert other["local_date"] == "2020-10-04"


def test_a_zone_said_to_be_unknown_stays_unknown_whatever_the_country(client, world):
    incident = _file(client, world, time_zone="", occurred_from="2020-10-03T20:30:00Z").get_json()
    assert (incident["time_zone"], incident["utc_offset_minutes"]) == ("", None)
    assert incident["occurred_from_local"] is None


def test_a_country_with_several_zones_leaves_it_unknown_and_utc(client, world):
    incident = _file(client, world, occurred_from="2020-10-03T20:30:00Z", country="USA").get_json()
    assert (incident["time_zone"], incident["utc_offset_minutes"]) == ("", None)
    assert incident["occurred_from_local"] is None
    assert incident["local_date"] == "2020-10-03"


def test_the_coordinates_settle_the_zone_of_a_country_with_several(client, world):
    incident = _file(client, world, occurred_from="2020-10-03T20:30:00Z", country="USA",
                     latitude=40.71, longitude=-74.01).get_json()
    assert incident["time_zone"] == "America/New_York"
    assert incident["occurred_from_local"] == "2020-10-03T16:30:00-04:00"


def test_summer_and_winter_time_in_kyiv(client, world):
    summer = _file(client, world, country="UKR", time_zone="Europe/Kyiv",
                   occurred_from="2022-07-01T09:00:00Z").get_json()
    winter = _file(client, world, country="UKR", time_zone="Europe/Kyiv",
                   occurred_from="2022-01-15T09:00:00Z").get_json()
    assert summer["occurred_from_local"] == "2022-07-01T12:00:00+03:00"
    assert winter["occurred_from_local"] == "2022-01-15T11:00:00+02:00"


@pytest.mark.parametrize(("changes", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"utc_offset_minutes": 900}, "utc_offset_minutes"),
    ({"occurred_from": "2020-10-04T00:30:00+15:00"}, "occurred_from"),
    ({"time_zone": "Europe/Kyiv", "utc_offset_minutes": 120,
      "occurred_from": "2022-07-01T09:00:00Z"}, "utc_offset_minutes"),
    ({"time_zone": "Asia/Baku", "occurred_from": "2020-10-04T01:30:00+05:00"}, "occurred_from"),
    ({"utc_offset_minutes": 240, "occurred_from": "2020-10-04T01:30:00+05:00"}, "occurred_from"),
    ({"occurred_to": "2020-10-04T01:30:00-15:00"}, "occurred_to"),
])
def test_bad_local_time_is_refused_naming_the_field_and_files_nothing(client, world, db,
                                                                       changes, field):
    before = _count(db)
    error = error_of(_file(client, world, **changes), 422)
    assert field in error["fields"], error
    assert "Traceback" not in error["fields"][field]
    assert _count(db) == before


def test_a_time_written_at_another_offset_than_the_zone_says_which(client, world):
    response = _file(client, world, time_zone="Asia/Baku",
                     occurred_from="2020-10-04T01:30:00+05:00")
    message = error_of(response, 422)["fields"]["occurred_from"]
    assert message == ("The time is written at UTC+05:00, but Asia/Baku was at UTC+04:00 on "
                       "2020-10-04: write it at that offset, or in UTC (Z).")


def test_a_bad_zone_in_an_edit_changes_nothing(client, world):
    incident = _file(client, world, time_zone="Asia/Baku").get_json()
    url = f"/api/v1/incidents/{incident['ref']}"
    headers = {**world["headers"]["member_investigator"], "If-Match": str(incident["version"])}
    error = error_of(client.patch(url, headers=headers, json={"time_zone": "Mars/Olympus"}), 422)
    assert "time_zone" in error["fields"]
    after = client.get(url, headers=world["headers"]["auditor"]).get_json()
    assert (after["time_zone"], after["version"]) == ("Asia/Baku", incident["version"])


def test_an_edit_with_an_offset_in_the_time_records_it(client, world):
    incident = _file(client, world, country="USA", occurred_from="2020-10-03T20:30:00Z").get_json()
    headers = {**world["headers"]["member_investigator"], "If-Match": str(incident["version"])}
    edited = client.patch(f"/api/v1/incidents/{incident['ref']}", headers=headers,
                          json={"occurred_from": "2020-10-03T16:30:00-04:00"}).get_json()
    assert edited["utc_offset_minutes"] == -240
    assert edited["occurred_from"] == "2020-10-03T16:30:00-04:00"  # the offset it was given
    assert edited["occurred_from_local"] == "2020-10-03T16:30:00-04:00"


def test_the_audit_entry_records_the_zone(client, world, db):
    incident = _file(client, world, time_zone="Asia/Baku").get_json()
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity_id == incident["ref"])).one()
    db.commit()
    after = json.loads(entry.change)["after"]
    assert after["time_zone"] == "Asia/Baku"
    assert after["utc_offset_minutes"] is None
    assert after["occurred_from"].startswith("2020-10-03T20:30:00")


# ---- the pages --------------------------------------------------------------------------------

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


def _strike(db, case, investigator, **fields):
    return make_incident(db, case, investigator, title="Strike on the bus station", country="AZE",
                         occurred_from=STRIKE_LOCAL, **fields)


def test_the_incident_page_and_lists_show_local_time_and_utc(logged_in, db, case, investigator):
    incident = _strike(db, case, investigator)
    for url in (f"/incidents/{incident.ref}", f"/cases/{case.ref}", "/incidents",
                f"/cases/{case.ref}/incidents"):
        assert STRIKE_TEXT in text_of(logged_in.get(url)), url


def test_an_incident_whose_zone_is_unknown_is_marked(logged_in, db, case, investigator):
    incident = make_incident(db, case, investigator, country="USA")
    page = text_of(logged_in.get(f"/incidents/{incident.ref}"))
    assert "2020-10-04 09:30 " + UNKNOWN_TEXT in page
    assert "Time zone Not recorded: times are shown in UTC" in page
    listed = text_of(logged_in.get(f"/cases/{case.ref}"))
    assert "2020-10-04 09:30 " + UNKNOWN_TEXT in listed


def test_the_evidence_page_gives_its_incidents_local_time(logged_in, app, db, case,
                                                          investigator):
    incident = _strike(db, case, investigator)
    item = make_evidence(db, case, investigator, app.extensions["ihl_store"],
                         data=jpeg_with_exif(), kind="photo", original_filename="IMG_0001.JPG")
    evidence_services.link_evidence(db, incident, item, "Photo of the crater",
                                    actor=investigator)
    db.commit()
    assert STRIKE_TEXT in text_of(logged_in.get(f"/evidence/{item.ref}"))


def _stored(db, title) -> Incident:
    row = db.exec(select(Incident).where(Incident.title == title)
                  .execution_options(populate_existing=True)).one()
    db.commit()
    return row


def test_the_form_takes_local_time_in_the_chosen_zone(logged_in, db, case):
    form = incident_form(title="Night strike", country="AZE", time_zone="Asia/Baku",
                         occurred_from="2020-10-04", occurred_from_time="00:30")
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=form)
    assert response.status_code == 302, FormPage(response.get_data(as_text=True)).errors
    stored = _stored(db, "Night strike")
    assert stored.occurred_from.isoformat() == "2020-10-03T20:30:00+00:00"
    assert stored.time_zone == "Asia/Baku"
    edit = FormPage(logged_in.get(f"/incidents/{stored.ref}/edit").get_data(as_text=True))
    assert (edit.value("occurred_from"), edit.value("occurred_from_time")) == ("2020-10-04",
                                                                                "00:30")
    assert edit.values["time_zone"] == ["Asia/Baku"]


def test_the_form_takes_an_offset_when_no_zone_is_chosen(logged_in, db, case):
    form = incident_form(title="Offset strike", country="USA", time_zone="", utc_offset_minutes="-04:00",
                         occurred_from="2020-10-03", occurred_from_time="16:30")
    assert logged_in.post(f"/cases/{case.ref}/incidents/new", data=form).status_code == 302
    stored = _stored(db, "Offset strike")
    assert (stored.time_zone, stored.utc_offset_minutes) == ("", -240)
    assert stored.occurred_from.isoformat() == "2020-10-03T20:30:00+00:00"


def test_the_form_takes_the_zone_of_a_country_with_one(logged_in, db, case):
    form = incident_form(title="Yerevan strike", country="ARM", time_zone="",
                         occurred_from="2020-10-04", occurred_from_time="00:30")
    assert logged_in.post(f"/cases/{case.ref}/incidents/new", data=form).status_code == 302
    stored = _stored(db, "Yerevan strike")
    assert stored.time_zone == "Asia/Yerevan"
    assert stored.occurred_from.isoformat() == "2020-10-03T20:30:00+00:00"


def test_the_form_asks_for_the_zone_of_a_country_with_several(logged_in, db, case):
    before = _count(db)
    form = incident_form(country="UKR", time_zone="")
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=form)
    assert response.status_code == 422
    error = FormPage(response.get_data(as_text=True)).errors["time_zone"]
    assert "Europe/Kyiv" in error
    assert "Europe/Simferopol" in error
    assert _count(db) == before


def test_the_form_takes_the_zone_at_the_coordinates_in_a_country_with_several(logged_in, db,
                                                                               case):
    form = incident_form(title="Kyiv strike", country="UKR", time_zone="", latitude="50.45",
                         longitude="30.52", occurred_from="2022-07-01", occurred_from_time="12:00")
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=form)
    assert response.status_code == 302, FormPage(response.get_data(as_text=True)).errors
    stored = _stored(db, "Kyiv strike")
    assert stored.time_zone == "Europe/Kyiv"
    assert stored.occurred_from.isoformat() == "2022-07-01T09:00:00+00:00"


def test_the_form_keeps_times_in_utc_without_a_country_zone_or_offset(logged_in, db, case):
    form = incident_form(title="Nowhere known", country="", time_zone="",
                         occurred_from="2020-10-04", occurred_from_time="09:30")
    assert logged_in.post(f"/cases/{case.ref}/incidents/new", data=form).status_code == 302
    stored = _stored(db, "Nowhere known")
    assert (stored.time_zone, stored.utc_offset_minutes) == ("", None)
    assert stored.occurred_from.isoformat() == "2020-10-04T09:30:00+00:00"


def test_the_form_keeps_times_in_utc_when_the_zone_is_said_to_be_unknown(logged_in, db, case):
    form = incident_form(title="Unknown zone", country="ARM", time_zone="unknown",
                         occurred_from="2020-10-04", occurred_from_time="09:30")
    assert logged_in.post(f"/cases/{case.ref}/incidents/new", data=form).status_code == 302
    stored = _stored(db, "Unknown zone")
    assert (stored.time_zone, stored.utc_offset_minutes) == ("", None)
    assert stored.occurred_from.isoformat() == "2020-10-04T09:30:00+00:00"


@pytest.mark.parametrize(("fields", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "", "utc_offset_minutes": "+15:00"}, "utc_offset_minutes"),
    ({"time_zone": "", "utc_offset_minutes": "four hours"}, "utc_offset_minutes"),
    ({"time_zone": "Europe/Kyiv", "utc_offset_minutes": "+02:00", "occurred_from": "2022-07-01"},
     "utc_offset_minutes"),
])
def test_the_form_refuses_bad_local_time_with_a_field_error(logged_in, db, case, fields, field):
    before = _count(db)
    response = logged_in.post(f"/cases/{case.ref}/incidents/new", data=incident_form(**fields))
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors.get(field), fields
    assert _count(db) == before


def test_a_photo_taken_before_the_incident_names_its_local_start_date(app, db, case,
                                                                      investigator):
    # 00:30 on 5 October in Baku is 20:30 UTC on the 4th; the photo was taken at 09:12 UTC
    # on the 4th, before it: the flag gives the date the incident began there, the 5th.
    incident = make_incident(db, case, investigator, country="AZE",
                             occurred_from="2020-10-05T00:30:00+04:00")
    item = make_evidence(db, case, investigator, app.extensions["ihl_store"],
                         data=jpeg_with_exif(), kind="photo", original_filename="IMG_0001.JPG")
    flags = evidence_services.metadata_discrepancies(item, [incident])
    assert f"EXIF capture time is before incident {incident.ref} began (2020-10-05)." in flags


# ---- the dossier ------------------------------------------------------------------------------

def _dossier_html(app, db, case, template: str) -> str:
    plain = content.collect(db, case, audience="internal", prepared_by="x",
                            store=app.extensions["ihl_store"])
    return templating.template_environment().get_template(template).render(
        c=plain, i=plain["incidents"][0], first=True, sensitivity={})


def test_the_dossier_gives_the_local_date_and_time_with_utc_beside(app, db, case, investigator):
    _strike(db, case, investigator)
    section = _dossier_html(app, db, case, "dossier/incident.html")
    assert STRIKE_TEXT in section
    heading = section[section.index("<h2>"):section.index("</h2>")]
    assert "2020-10-04" in heading
    assert "2020-10-03" not in heading
    summary = _dossier_html(app, db, case, "dossier/summary.html")
    assert STRIKE_TEXT in summary


def test_the_dossier_marks_an_incident_whose_zone_is_unknown(app, db, case, investigator):
    make_incident(db, case, investigator, country="USA")
    section = _dossier_html(app, db, case, "dossier/incident.html")
    assert "2020-10-04 09:30 " + UNKNOWN_TEXT in section
    assert "Time zone" not in section  # laid out in the date, not listed among other facts
