"""Incident and case rules, called directly on the services."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ihl_docs.cases import services as cases
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound, StaleVersion
from ihl_docs.core.models import CaseCreate, CaseUpdate, IncidentCreate
from ihl_docs.incidents import services as incidents
from ihl_docs.incidents.services import IncidentFilter
from tests.builders import incident_data, make_case, make_incident, make_user

T0 = datetime(2020, 10, 4, tzinfo=UTC)


@pytest.mark.parametrize("changes, field", [
    ({"occurred_to": T0 - timedelta(days=1)}, "occurred_to"),
    ({"occurred_from": utcnow() + timedelta(days=2)}, "occurred_from"),
    ({"occurred_to": utcnow() + timedelta(days=2)}, "occurred_to"),
    ({"killed_min": 5, "killed_max": 2}, "killed_max"),
    ({"injured_min": 5, "injured_max": 2}, "injured_max"),
    ({"killed_max": 3, "children_killed": 4}, "children_killed"),
    ({"injured_min": 1, "injured_max": None, "children_injured": 2}, "children_injured"),
    ({"latitude": None}, "latitude"),
])
def test_cross_field_rules(db, changes, field):
    user = make_user(db)
    case = make_case(db, user)
    data = incident_data(**{"occurred_from": T0, **changes})
    with pytest.raises(InvalidInput) as error:
        incidents.create_incident(db, case, IncidentCreate.model_validate(data), actor=user)
    assert field in error.value.fields


@pytest.mark.parametrize("changes, field", [
    ({"latitude": 91}, "latitude"), ({"longitude": -181}, "longitude"),
    ({"killed_min": -1}, "killed_min"), ({"title": ""}, "title"), ({"title": "   "}, "title"),
    ({"incident_type": "bombing"}, "incident_type"), ({"civilian_objects": ["castle"]}, "civilian_objects"),
    ({"occurred_from": "2020-10-04T10:00:00"}, "occurred_from"),  # no UTC offset
    ({"country": "XXX"}, "country"),
])
def test_field_rules(changes, field):
    with pytest.raises(ValidationError) as error:
        IncidentCreate.model_validate(incident_data(**changes))
    assert field in {e["loc"][0] for e in error.value.errors()}


def test_refs_are_numbered_per_case(db):
    user = make_user(db)
    case = make_case(db, user, ref="NK-2020-001")
    first, second = make_incident(db, case, user), make_incident(db, case, user)
    assert (first.ref, second.ref) == ("NK-2020-001-I001", "NK-2020-001-I002")


def test_stale_edit_is_refused_with_what_changed(db):
    alice, bob = make_user(db), make_user(db)
    case = make_case(db, alice)
    cases.add_member(db, case, bob.email, actor=alice)
    incident = make_incident(db, case, alice)
    incidents.update_incident(db, incident, {"title": "Alice's title", "killed_max": 7},
                              expected_version=1, actor=alice)
    db.commit()
    with pytest.raises(StaleVersion) as error:
        incidents.update_incident(db, incident, {"title": "Bob's title"}, expected_version=1,
                                  actor=bob)
    db.rollback()
    assert error.value.current_version == 2
    changed = {c["field"]: c for c in error.value.changes}
    assert changed["title"]["to"] == "Alice's title"
    assert changed["title"]["by"] == alice.email
    assert changed["killed_max"]["from"] == 4
    assert changed["killed_max"]["to"] == 7
    db.refresh(incident)
    assert (incident.title, incident.version) == ("Alice's title", 2)


def test_each_accepted_change_raises_version_by_one_and_no_op_keeps_it(db):
    user = make_user(db)
    incident = make_incident(db, make_case(db, user), user)
    incidents.update_incident(db, incident, {"narrative": "More detail."}, expected_version=1,
                              actor=user)
    assert incident.version == 2
    incidents.update_incident(db, incident, {"narrative": "More detail."}, expected_version=2,
                              actor=user)
    assert incident.version == 2


def test_responsible_party_must_be_a_party_of_the_case(db):
    user = make_user(db)
    case = make_case(db, user)
    with pytest.raises(InvalidInput) as error:
        incidents.create_incident(db, case, IncidentCreate.model_validate(
            incident_data(responsible_party="Somebody else")), actor=user)
    assert "responsible_party" in error.value.fields
    ok = incidents.create_incident(db, case, IncidentCreate.model_validate(
        incident_data(responsible_party="Group B")), actor=user)
    assert incidents.incident_read(db, ok).responsible_party == "Group B"


def test_workflow_roles(db, app):
    investigator, lawyer, auditor = make_user(db), make_user(db, "legal"), make_user(db, "auditor")
    case = make_case(db, investigator)
    cases.add_member(db, case, lawyer.email, actor=investigator)
    incident = make_incident(db, case, investigator, verification_status="verified")
    with pytest.raises(InvalidInput):
        incidents.change_status(db, incident, "approved", expected_version=1, actor=investigator)
    incidents.change_status(db, incident, "submitted", expected_version=1, actor=investigator)
    incidents.change_status(db, incident, "in_legal_review", expected_version=2, actor=lawyer)
    for outsider in (investigator, auditor):
        with pytest.raises(Forbidden):
            incidents.change_status(db, incident, "approved", expected_version=3, actor=outsider)
    with app.app_context():  # the application says which gaps an approval answers for
        incidents.change_status(db, incident, "approved", expected_version=3, actor=lawyer)
    assert incident.workflow_status == "approved"
    with pytest.raises(Forbidden):
        incidents.update_incident(db, incident, {"title": "x"}, expected_version=4,
                                  actor=investigator)


def test_legal_cannot_edit_facts_nor_file(db):
    investigator, lawyer = make_user(db), make_user(db, "legal")
    case = make_case(db, investigator)
    cases.add_member(db, case, lawyer.email, actor=investigator)
    incident = make_incident(db, case, investigator)
    with pytest.raises(Forbidden):
        incidents.update_incident(db, incident, {"title": "x"}, expected_version=1, actor=lawyer)
    with pytest.raises(Forbidden):
        incidents.create_incident(db, case, IncidentCreate.model_validate(incident_data()),
                                  actor=lawyer)


def test_case_rules(db):
    investigator, lawyer = make_user(db), make_user(db, "legal")
    case = make_case(db, investigator, ref="NK-2020-001")
    with pytest.raises(Conflict):
        make_case(db, investigator, ref="nk-2020-001")
    db.rollback()
    with pytest.raises(Forbidden):
        make_case(db, lawyer)
    db.rollback()
    with pytest.raises(ValidationError):
        CaseCreate.model_validate({"ref": "A", "title": "t"})
    with pytest.raises(ValidationError):
        CaseCreate.model_validate({"ref": "AB-1", "title": "t",
                                   "parties": [{"name": "X", "kind": "non-state",
                                                "state_code": "ARM"}]})
    with pytest.raises(InvalidInput):
        cases.update_case(db, case, CaseUpdate.model_validate(
            {"title": "t", "parties": [{"name": "X", "kind": "non-state"},
                                       {"name": "x", "kind": "non-state"}]}),
            expected_version=1, actor=investigator)
    db.rollback()
    with pytest.raises(NotFound):
        cases.add_member(db, case, "ghost@example.org", actor=investigator)
    cases.add_member(db, case, lawyer.email, actor=investigator)
    with pytest.raises(Conflict):
        cases.add_member(db, case, lawyer.email, actor=investigator)
    with pytest.raises(Forbidden):
        cases.add_member(db, case, investigator.email, actor=lawyer)


def test_party_named_in_an_incident_cannot_be_removed(db):
    user = make_user(db)
    case = make_case(db, user)
    make_incident(db, case, user, responsible_party="Group B")
    with pytest.raises(InvalidInput) as error:
        cases.update_case(db, case, CaseUpdate.model_validate({"title": "t", "parties": []}),
                          expected_version=1, actor=user)
    assert "Group B" in error.value.message


def test_search_filters(db):
    user = make_user(db)
    case = make_case(db, user)
    make_incident(db, case, user, title="Shelling of hospital", incident_type="shelling",
                  occurred_from=datetime(2020, 10, 1, tzinfo=UTC))
    make_incident(db, case, user, title="Rocket at market", narrative="100% destroyed_stalls",
                  occurred_from=datetime(2020, 10, 20, tzinfo=UTC))
    def titles(**kw):
        rows, total = incidents.search_incidents(db, case, IncidentFilter(**kw))
        assert total == len(rows)
        return sorted(r.title for r in rows)
    assert titles(incident_type="shelling") == ["Shelling of hospital"]
    assert titles(q="HOSPITAL") == ["Shelling of hospital"]
    assert titles(q="100%") == ["Rocket at market"]
    assert titles(q="yed%sta") == []  # % and _ are taken literally, not as wildcards
    assert titles(q="destroyed_stalls") == ["Rocket at market"]
    assert titles(q="yed_sta") == []  # word search: no match in the middle of a word
    assert titles(date_from=datetime(2020, 10, 10, tzinfo=UTC)) == ["Rocket at market"]
    assert titles(date_to=datetime(2020, 10, 10, tzinfo=UTC)) == ["Shelling of hospital"]
    assert titles(workflow_status="approved") == []


def test_civilian_objects_are_kept_in_one_order(db):
    user = make_user(db)
    incident = make_incident(db, make_case(db, user), user,
                             civilian_objects=["school", "residential", "school"])
    assert incident.civilian_objects == ["residential", "school"]
    incidents.update_incident(db, incident, {"civilian_objects": ["school", "residential"]},
                              expected_version=1, actor=user)
    assert incident.version == 1
