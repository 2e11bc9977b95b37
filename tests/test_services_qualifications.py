"""Qualification rules, the applicability check, the proof matrix and suggestions."""


from datetime import date

import pytest
from sqlmodel import select

from ihl_docs.cases import services as cases
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, StaleVersion
from ihl_docs.core.models import AuditEntry, Instrument, InstrumentParty, Provision
from ihl_docs.provisions import services as provision_services
from ihl_docs.qualifications import applicability
from ihl_docs.qualifications import services as q
from tests.builders import load_catalogue, make_case, make_evidence, make_incident, make_user, qualify


@pytest.fixture
def team(db, app):
    load_catalogue(db)
    investigator, lawyer = make_user(db), make_user(db, "legal")
    case = make_case(db, investigator, conflict_classification="international")
    cases.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="State A armed forces")
    store = app.extensions["ihl_store"]
    return {"investigator": investigator, "lawyer": lawyer, "case": case, "incident": incident,
            "store": store}


def _link(db, team, data=b"%PDF-1.4 a", **fields):
    from ihl_docs.evidence import services as evidence

    item = make_evidence(db, team["case"], team["investigator"], team["store"], data, **fields)
    evidence.link_evidence(db, team["incident"], item, "", actor=team["investigator"])
    db.commit()
    return item


def test_findings_per_element_with_cited_evidence(db, team):
    qualification = qualify(db, team["incident"], team["lawyer"], "rs-8-2-b-i")
    read = q.qualification_read(db, qualification)
    assert [e["status"] for e in read["elements"]] == ["not_assessed"] * len(read["elements"])
    photo = _link(db, team, b"%PDF-1.4 photo")
    q.set_finding(db, qualification, 1, "supported", "Crater analysis", [(photo.ref, "supports")],
                  actor=team["lawyer"])
    db.commit()
    read = q.qualification_read(db, qualification)
    assert read["elements"][0]["evidence"] == [{"ref": photo.ref, "stance": "supports"}]
    assert read["version"] == 2
    log = db.exec(select(AuditEntry.action).where(AuditEntry.entity == "qualification")).all()
    assert log == ["create", "update_finding"]


def test_bad_input_changes_nothing(db, team):
    lawyer, incident = team["lawyer"], team["incident"]
    with pytest.raises(InvalidInput) as error:
        q.add_qualification(db, incident, "no-such-provision", "alleged", actor=lawyer)
    assert "provision_key" in error.value.fields
    db.rollback()
    qualification = qualify(db, incident, lawyer, "rs-8-2-b-i")
    with pytest.raises(Conflict):
        q.add_qualification(db, incident, "rs-8-2-b-i", "alleged", actor=lawyer)
    db.rollback()
    with pytest.raises(InvalidInput) as error:
        q.set_finding(db, qualification, 99, "supported", "", [], actor=lawyer)
    assert "no element 99" in error.value.message
    db.rollback()
    unlinked = make_evidence(db, team["case"], team["investigator"], team["store"], b"%PDF-1.4 u")
    with pytest.raises(InvalidInput) as error:
        q.set_finding(db, qualification, 1, "supported", "", [(unlinked.ref, "supports")],
                      actor=lawyer)
    assert "not linked" in error.value.message
    db.rollback()
    other_case = make_case(db, team["investigator"])
    foreign = make_evidence(db, other_case, team["investigator"], team["store"], b"%PDF-1.4 f")
    with pytest.raises(InvalidInput):
        q.set_finding(db, qualification, 1, "supported", "", [(foreign.ref, "supports")],
                      actor=lawyer)
    db.rollback()
    with pytest.raises(Forbidden):
        q.add_qualification(db, incident, "cihl-11", "alleged", actor=team["investigator"])
    db.rollback()
    q.update_qualification(db, qualification, assessment="probable", analysis="x",
                           expected_version=1, actor=lawyer)
    db.commit()
    with pytest.raises(StaleVersion):
        q.update_qualification(db, qualification, assessment="established", analysis="y",
                               expected_version=1, actor=lawyer)
    db.rollback()
    db.refresh(qualification)
    assert (qualification.assessment, qualification.version) == ("probable", 2)


def _codes(db, incident, key):
    provision = db.exec(select(Provision).where(Provision.key == key)).one()
    return {w.code: w for w in applicability.check(db, incident, provision)}


def test_iac_provision_in_a_non_international_conflict_suggests_customary_rule(db, team):
    case = team["case"]
    case.conflict_classification = "non-international"
    db.add(case)
    db.commit()
    warnings = _codes(db, team["incident"], "api-51-4")
    assert "iac_only" in warnings
    assert any(k.startswith("cihl-") for k in warnings["iac_only"].suggested_provisions)
    # the qualification is still recorded, with its warning
    qualification = qualify(db, team["incident"], team["lawyer"], "api-51-4")
    assert q.qualification_read(db, qualification)["warnings"][0]["code"] == "iac_only"


def _set_party(db, instrument, state, status, since):
    inst = db.exec(select(Instrument).where(Instrument.short_name == instrument)).one()
    row = db.exec(select(InstrumentParty).where(InstrumentParty.instrument_id == inst.id,
                                                InstrumentParty.state == state)).first()
    row = row or InstrumentParty(instrument_id=inst.id, state=state, status=status)
    exact = date.fromisoformat(since) if since and len(since) == 10 else None
    row.status, row.since, row.in_force_for_state = status, since, exact
    row.deposit = since if since and len(since) == 4 else None
    row.confidence = "high"
    db.add(row)
    db.commit()


def test_state_that_joined_after_the_incident(db, team):
    # the incident is on 2020-10-04; State A (ARM) joins the CCM only afterwards
    _set_party(db, "CCM", "ARM", "party", "2024-02-01")
    warnings = _codes(db, team["incident"], "ccm-1")
    assert "not_yet_bound" in warnings
    assert "2024-02-01" in warnings["not_yet_bound"].message
    # customary rules, which bind every party; the other CCM articles bind no better
    suggested = warnings["not_yet_bound"].suggested_provisions
    assert "cihl-71" in suggested
    assert all(key.startswith("cihl-") for key in suggested)
    _set_party(db, "CCM", "ARM", "party", "2019-01-01")
    assert _codes(db, team["incident"], "ccm-1") == {}


def test_year_only_accession_in_the_incident_year_asks_to_check(db, team):
    _set_party(db, "AP I", "ARM", "party", "2020")
    assert "bound_date_uncertain" in _codes(db, team["incident"], "api-51-4")
    _set_party(db, "AP I", "ARM", "party", "2021")
    assert "not_yet_bound" in _codes(db, team["incident"], "api-51-4")
    _set_party(db, "AP I", "ARM", "not_party", None)
    assert "state_not_party" in _codes(db, team["incident"], "api-51-4")


def test_proof_matrix_shows_gaps_and_uncited_evidence(db, team):
    qualification = qualify(db, team["incident"], team["lawyer"], "rs-8-2-b-i")
    cited, spare = _link(db, team, b"%PDF-1.4 c"), _link(db, team, b"%PDF-1.4 s")
    q.set_finding(db, qualification, 1, "supported", "", [(cited.ref, "supports")],
                  actor=team["lawyer"])
    q.set_finding(db, qualification, 2, "contested", "", [(cited.ref, "contradicts")],
                  actor=team["lawyer"])
    db.commit()
    matrix = q.proof_matrix(db, team["incident"])
    assert matrix.evidence == sorted([cited.ref, spare.ref])
    rows = {r.number: r for r in matrix.rows}  # grouped by kind: context rows come first
    assert rows[1].cells == {cited.ref: "supports"}
    assert not rows[1].unsupported
    assert rows[2].unsupported  # only contradicting evidence
    assert sorted(r.number for r in matrix.gaps) == list(range(2, len(matrix.rows) + 1))
    assert matrix.uncited == [spare.ref]


def test_a_case_s_matrices_take_the_same_few_queries_however_many_incidents(db, team):
    import sqlalchemy as sa

    def statements(incidents) -> tuple[int, dict]:
        seen = []
        engine = db.get_bind()
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            matrices = q.proof_matrices(db, incidents)
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(seen), matrices

    first = team["incident"]
    qualify(db, first, team["lawyer"], "rs-8-2-b-i")
    few, _ = statements([first])
    more = [make_incident(db, team["case"], team["investigator"]) for _ in range(6)]
    for incident in more:
        qualify(db, incident, team["lawyer"], "api-51-4")
        qualify(db, incident, team["lawyer"], "rs-8-2-b-i")
    db.commit()
    many, matrices = statements([first, *more])
    assert many == few
    # and each is what the one-incident matrix says
    for incident in [first, *more]:
        assert matrices[incident.id] == q.proof_matrix(db, incident)
        assert matrices[incident.id].rows


def test_suggestions_from_the_mapping(db, team):
    incident = make_incident(db, team["case"], team["investigator"], incident_type="rocket",
                             weapon_type="300 mm rocket with cluster warhead")
    keys = [p.key for p, _ in q.suggestions(db, incident)]
    assert "ccm-1" in keys
    assert "cihl-11" in keys
    qualify(db, incident, team["lawyer"], "ccm-1")
    assert "ccm-1" not in [p.key for p, _ in q.suggestions(db, incident)]
    rule = provision_services.add_rule(
        db, incident_type="rocket", weapon_keyword="", requires_civilian_objects=False,
        provision_key="cihl-15", reason="Precautions", actor=team["lawyer"])
    assert "cihl-15" in [p.key for p, _ in q.suggestions(db, incident)]
    provision_services.retire_rule(db, rule, actor=team["lawyer"])
    assert "cihl-15" not in [p.key for p, _ in q.suggestions(db, incident)]
    with pytest.raises(Forbidden):
        provision_services.add_rule(
            db, incident_type="rocket", weapon_keyword="", requires_civilian_objects=False,
            provision_key="cihl-15", reason="", actor=team["investigator"])


def test_search_and_correct_provisions(db, team):
    from ihl_docs.provisions import services as p

    rows, total = p.search_provisions(db, p.ProvisionFilter(q="cluster"))
    assert total >= 2
    searched = [p.provision_read(db, r) for r in rows]  # notes and element texts are searched
    assert all("cluster" in " ".join([r["title"], r["summary"], r["notes"], r["instrument_name"],
                                      *(e["text"] for e in r["elements"])]).lower()
               for r in searched)
    _, iac = p.search_provisions(db, p.ProvisionFilter(applies_to="NIAC", instrument="AP I"))
    assert iac == 0
    rows, _ = p.search_provisions(db, p.ProvisionFilter(instrument="CCM"))
    assert {r.key for r in rows} >= {"ccm-1", "ccm-2"}
    provision = p.get_provision(db, "rs-8-2-b-i")
    qualification = qualify(db, team["incident"], team["lawyer"], "rs-8-2-b-i")
    data = p.ProvisionCorrection(**{k: v for k, v in p.provision_read(db, provision).items()
                                    if k in p.ProvisionCorrection.model_fields
                                    and k != "elements"},
                                 elements=["Only one element now"])
    with pytest.raises(Forbidden):
        p.correct_provision(db, provision, data, expected_version=1, actor=team["investigator"])
    p.correct_provision(db, provision, data, expected_version=1, actor=team["lawyer"])
    db.commit()
    assert provision.version == 2
    read = q.qualification_read(db, qualification)
    assert read["elements"][0]["text"] == "Only one element now"
    assert "no longer in the provision" in read["elements"][1]["text"]
    with pytest.raises(StaleVersion):
        p.correct_provision(db, provision, data, expected_version=1, actor=team["lawyer"])
