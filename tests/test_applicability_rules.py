"""The applicability check as an IHL lawyer tries it: binding, jurisdiction and attribution as
separate questions, with real states and dates from the bundled catalogue (edition 2:
states_parties.jsonl and icc_jurisdiction.json)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from ihl_docs.cases import services as cases
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import Case, CaseUpdate, PartyIn, Provision
from ihl_docs.qualifications import applicability
from tests.builders import load_catalogue, make_case, make_incident, make_user

PARTIES = [
    {"name": "Russian armed forces", "kind": "state", "state_code": "RUS"},
    {"name": "Ukrainian armed forces", "kind": "state", "state_code": "UKR"},
    {"name": "Azerbaijani armed forces", "kind": "state", "state_code": "AZE"},
    {"name": "Armenian armed forces", "kind": "state", "state_code": "ARM"},
    {"name": "Nigerian armed forces", "kind": "state", "state_code": "NGA"},
    {"name": "Lithuanian armed forces", "kind": "state", "state_code": "LTU"},
    {"name": "South Sudanese armed forces", "kind": "state", "state_code": "SSD"},
    {"name": "Sudanese armed forces", "kind": "state", "state_code": "SDN"},
    {"name": "Burundian armed forces", "kind": "state", "state_code": "BDI"},
    {"name": "Group X", "kind": "non-state"},
]


@pytest.fixture
def lab(db):
    load_catalogue(db)
    investigator = make_user(db)
    case = make_case(db, investigator, parties=PARTIES, conflict_classification="international")
    return {"db": db, "case": case, "investigator": investigator}


def _classify(lab, classification):
    case = lab["case"]
    case.conflict_classification = classification
    lab["db"].add(case)
    lab["db"].commit()


def _incident(lab, party, country, when, **fields):
    return make_incident(lab["db"], lab["case"], lab["investigator"], responsible_party=party,
                         country=country, occurred_from=when, latitude=None, longitude=None,
                         **fields)


def _check(lab, incident, key):
    db = lab["db"]
    provision = db.exec(select(Provision).where(Provision.key == key)).one()
    return {f.code: f for f in applicability.check(db, incident, provision)}


def _at(*args):
    return datetime(*args, tzinfo=UTC)


# ---- (a) is the rule binding on the party? ------------------------------------------------------

def test_a_state_party_is_bound_and_the_answer_names_its_dates_and_source(lab):
    incident = _incident(lab, "Russian armed forces", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "api-51-4")
    assert not {"state_not_party", "not_yet_bound", "state_status_unknown",
                "attribution_needed"} & set(found)


def test_a_state_not_party_gets_the_customary_rule_that_binds_it(lab):
    # Azerbaijan is not party to AP I (states_parties.jsonl, confidence medium).
    incident = _incident(lab, "Azerbaijani armed forces", "ARM", _at(2020, 10, 4, 9))
    found = _check(lab, incident, "api-51-4")
    assert "AZE is not party to AP I" in found["state_not_party"].message
    assert any("AP I: not party" in fact for fact in found["state_not_party"].facts)
    suggested = found["state_not_party"].suggested_provisions
    assert suggested
    assert all(key.startswith("cihl-") for key in suggested)
    assert "cihl-11" in suggested


def test_a_state_bound_only_after_the_incident(lab):
    # Nigeria: CCM deposited 2023-02-28, in force for it 2023-08-01 (confidence high).
    incident = _incident(lab, "Nigerian armed forces", "NGA", _at(2023, 5, 10, 12))
    found = _check(lab, incident, "ccm-1")
    assert "from 2023-08-01" in found["not_yet_bound"].message
    assert "cihl-71" in found["not_yet_bound"].suggested_provisions
    later = _incident(lab, "Nigerian armed forces", "NGA", _at(2023, 9, 1, 12))
    assert not {"not_yet_bound", "state_not_party"} & set(_check(lab, later, "ccm-1"))


def test_a_withdrawal_that_took_effect_before_the_incident(lab):
    # Lithuania's withdrawal from the CCM took effect on 2025-03-06.
    incident = _incident(lab, "Lithuanian armed forces", "LTU", _at(2025, 6, 1, 12))
    found = _check(lab, incident, "ccm-1")
    assert "took effect on 2025-03-06" in found["withdrawn"].message


def test_a_missing_row_is_unknown_never_not_a_party(lab):
    # CCW Protocol III has no row for Nigeria: nobody checked.
    incident = _incident(lab, "Nigerian armed forces", "NGA", _at(2023, 9, 1, 12))
    found = _check(lab, incident, "ccw-piii-2")
    assert "state_not_party" not in found
    assert "unknown" in found["state_status_unknown"].message
    assert "not 'not a party'" in found["state_status_unknown"].message


def test_a_low_confidence_row_is_used_but_flagged_with_its_source(lab):
    # Ukraine's AP I row is of low confidence.
    incident = _incident(lab, "Ukrainian armed forces", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "api-51-4")
    assert "low-confidence" in found["low_confidence"].message
    assert "source:" in found["low_confidence"].message
    assert not found["low_confidence"].suggested_provisions


def test_the_local_calendar_date_decides_not_utc(lab):
    """South Sudan: CCM in force from 2024-02-01. At 01:30 in Juba (UTC+2) on that day it is
    still 31 January in UTC: no false 'not yet bound'."""
    instant = _at(2024, 1, 31, 23, 30)
    local = _incident(lab, "South Sudanese armed forces", "SSD", instant,
                      time_zone="Africa/Juba")
    assert applicability.incident_date(local).isoformat() == "2024-02-01"
    assert "not_yet_bound" not in _check(lab, local, "ccm-1")
    offset = _incident(lab, "South Sudanese armed forces", "SSD", instant, utc_offset_minutes=120)
    assert "not_yet_bound" not in _check(lab, offset, "ccm-1")
    # the country's one zone is taken when none is given; "" says the zone is not known
    default = _incident(lab, "South Sudanese armed forces", "SSD", instant)
    assert default.time_zone == "Africa/Juba"
    unknown = _incident(lab, "South Sudanese armed forces", "SSD", instant, time_zone="")
    assert "not_yet_bound" in _check(lab, unknown, "ccm-1")


# ---- a non-state party and attribution --------------------------------------------------------

def _attribute(lab, state, how="overall_control", note="Commanded by officers of the state."):
    db, case = lab["db"], lab["case"]
    cases.set_attribution(db, case, "Group X", state=state, attribution=how, note=note,
                          evidence=[], expected_version=case.version, actor=lab["investigator"])
    db.commit()


def test_a_non_state_party_without_attribution_is_not_bound_by_ap_i(lab):
    incident = _incident(lab, "Group X", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "api-51-4")
    assert "attributable to a state party" in found["attribution_needed"].message
    assert found["attribution_needed"].question == "attribution"
    assert "cihl-11" in found["attribution_needed"].suggested_provisions
    # the customary rule binds every party: no warning there
    assert not [f for f in _check(lab, incident, "cihl-11").values() if f.is_warning]


def test_with_attribution_the_treaty_check_follows_the_state_and_says_so(lab):
    _attribute(lab, "RUS")
    incident = _incident(lab, "Group X", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "api-51-4")
    assert "attribution_needed" not in found
    assert "state_not_party" not in found
    assert "treaty checks follow RUS" in found["note"].message
    assert "overall control" in found["note"].message
    _attribute(lab, "Azerbaijani armed forces")  # a state party named: its code is recorded
    found = _check(lab, incident, "api-51-4")
    assert "AZE is not party to AP I" in found["state_not_party"].message


def test_a_rule_written_for_every_party_binds_the_group_through_the_territorial_state(lab):
    _classify(lab, "non-international")
    incident = _incident(lab, "Group X", "SDN", _at(2023, 6, 1, 10))
    found = _check(lab, incident, "apii-13")
    assert "attribution_needed" not in found
    assert "binds Group X as a party to the conflict" in found["note"].message


def test_common_article_3_in_an_international_conflict_is_a_note_not_a_warning(lab):
    incident = _incident(lab, "Russian armed forces", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "gc-ca3")
    assert "niac_only" not in found
    assert "minimum yardstick" in found["note"].message
    assert not found["note"].is_warning


def test_attribution_bad_input_is_refused_and_changes_nothing(lab):
    db, case = lab["db"], lab["case"]
    version = case.version

    def attempt(**fields):
        values = {"state": "RUS", "attribution": "overall_control", "note": "", "evidence": []}
        values.update(fields)
        with pytest.raises(InvalidInput) as error:
            cases.set_attribution(db, case, fields.pop("party", "Group X"),
                                  **{k: v for k, v in values.items() if k != "party"},
                                  expected_version=case.version, actor=lab["investigator"])
        db.rollback()
        return error.value

    assert "attributed only to a state" in attempt(state="Group X").message
    assert "neither an ISO 3166-1 alpha-3" in attempt(state="XYZ").message
    assert "its own" in attempt(party="Russian armed forces").message
    assert "Not evidence of this case" in attempt(evidence=["TC-9999-E001"]).message
    assert "give both" in attempt(attribution="").message
    db.refresh(case)
    assert case.version == version
    assert all(not p.attributed_state for p in cases.parties(db, case))


def test_an_attribution_survives_editing_the_case_through_the_api_model(lab):
    _attribute(lab, "RUS")
    db, case = lab["db"], lab["case"]
    group = next(p for p in cases.parties(db, case) if p.name == "Group X")
    assert (group.attributed_state, group.attribution) == ("RUS", "overall_control")
    kept = [PartyIn.model_validate(p, from_attributes=True) for p in cases.parties(db, case)]
    cases.update_case(db, case, CaseUpdate(title="Renamed", parties=kept,
                                           conflict_classification="international"),
                      expected_version=case.version, actor=lab["investigator"])
    db.commit()
    group = next(p for p in cases.parties(db, db.get(Case, case.id)) if p.name == "Group X")
    assert group.attributed_state == "RUS"


# ---- (b) which court could try it? -------------------------------------------------------------

def test_the_rome_statute_is_not_a_treaty_binding_the_responsible_state(lab):
    """Russia is not a State Party; its forces' conduct in Ukraine after 1 January 2025 is within
    the Court's jurisdiction by territory (art. 12(2)(a))."""
    incident = _incident(lab, "Russian armed forces", "UKR", _at(2025, 2, 1, 10))
    found = _check(lab, incident, "rs-8-2-b-i")
    assert "state_not_party" not in found
    assert found["icc_jurisdiction"].basis == "territory"
    assert found["icc_jurisdiction"].question == "jurisdiction"
    assert not found["icc_jurisdiction"].is_warning
    assert "art. 12(2)(a)" in found["icc_jurisdiction"].message


def test_a_declaration_covering_the_period(lab):
    # Ukraine's second art. 12(3) declaration covers 2014-02-20 to 2024-12-31.
    incident = _incident(lab, "Russian armed forces", "UKR", _at(2022, 3, 1, 10))
    found = _check(lab, incident, "rs-8-2-b-i")
    assert found["icc_jurisdiction"].basis == "declaration"
    assert "2014-02-20 to 2024-12-31" in found["icc_jurisdiction"].message


def test_nationality_of_a_state_party(lab):
    # Armenia: Rome Statute in force from 2024-02-01; its forces acting in Azerbaijan.
    incident = _incident(lab, "Armenian armed forces", "AZE", _at(2024, 6, 1, 10))
    assert _check(lab, incident, "rs-8-2-b-i")["icc_jurisdiction"].basis == "nationality"


def test_no_jurisdiction_names_customary_rule_156_not_a_rule_of_state_conduct(lab):
    # Ganja, 2020-10-04: Azerbaijan not party; Armenia bound only from 2024 and its
    # declaration covers 2021-05-10 onwards.
    incident = _incident(lab, "Armenian armed forces", "AZE", _at(2020, 10, 4, 9))
    found = _check(lab, incident, "rs-8-2-b-i")
    answer = found["no_icc_jurisdiction"]
    assert "universal jurisdiction" in answer.message
    assert "cihl-156" in answer.suggested_provisions
    assert "cihl-1" not in answer.suggested_provisions
    assert "cihl-11" not in answer.suggested_provisions


def test_a_security_council_referral(lab):
    _classify(lab, "non-international")
    incident = _incident(lab, "Sudanese armed forces", "SDN", _at(2004, 5, 1, 10))
    found = _check(lab, incident, "rs-8-2-e-i")
    assert found["icc_jurisdiction"].basis == "referral"
    assert "S/RES/1593" in found["icc_jurisdiction"].message


def test_a_withdrawn_state_no_longer_founds_jurisdiction(lab):
    # Burundi's withdrawal took effect on 2017-10-27.
    incident = _incident(lab, "Burundian armed forces", "BDI", _at(2018, 1, 10, 10))
    found = _check(lab, incident, "rs-8-2-e-i")
    assert "icc_jurisdiction" not in found
    assert "no_icc_jurisdiction" in found


def test_before_the_statute_entered_into_force(lab):
    incident = _incident(lab, "Russian armed forces", "UKR", _at(2001, 5, 1, 10))
    assert "art. 11(1)" in _check(lab, incident, "rs-8-2-b-i")["no_icc_jurisdiction"].message


def test_crimes_committed_while_a_state_was_party_stay_within_jurisdiction(lab):
    """Art. 127(2): Burundi was a State Party from 2004-12-01 until its withdrawal took effect
    on 2017-10-27; the Philippines from 2011-11-01 to 2019-03-17."""
    _classify(lab, "non-international")
    during = _incident(lab, "Burundian armed forces", "BDI", _at(2016, 1, 10, 10))
    assert _check(lab, during, "rs-8-2-e-i")["icc_jurisdiction"].basis == "territory"
    before = _incident(lab, "Burundian armed forces", "BDI", _at(2004, 6, 1, 10))
    assert "no_icc_jurisdiction" in _check(lab, before, "rs-8-2-e-i")
    manila = _incident(lab, "Group X", "PHL", _at(2018, 5, 1, 10))
    assert _check(lab, manila, "rs-8-2-e-i")["icc_jurisdiction"].basis == "territory"
    after = _incident(lab, "Group X", "PHL", _at(2020, 5, 1, 10))
    assert "no_icc_jurisdiction" in _check(lab, after, "rs-8-2-e-i")
