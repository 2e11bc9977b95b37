"""Qualification pages: provisions element by element with the evidence, warnings, suggestions,
the proof matrices, and who may do what."""

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import func, select

from ihl_docs import create_app
from ihl_docs.cases import services as case_services
from ihl_docs.core.models import AuditEntry, ElementEvidence, ElementFinding, Instrument, InstrumentParty, Qualification
from ihl_docs.evidence import services as evidence_services
from ihl_docs.qualifications import services as q
from tests.builders import (
    PASSWORD,
    assert_hidden_looks_missing,
    load_catalogue,
    login,
    make_case,
    make_evidence,
    make_incident,
    make_user,
    qualify,
)
from tests.pages_support import FormPage, text_of


@dataclass
class Team:
    investigator: object
    lawyer: object
    case: object
    incident: object
    photo: object     # evidence linked to the incident
    report: object    # evidence linked to the incident
    store: object


@pytest.fixture
def team(db, app):
    load_catalogue(db)
    investigator = make_user(db, "investigator", email="ina@example.org")
    lawyer = make_user(db, "legal", email="lawyer@example.org")
    case = make_case(db, investigator, conflict_classification="international")
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="State A armed forces")
    store = app.extensions["ihl_store"]
    photo = link(db, case, incident, investigator, store, b"%PDF-1.4 photo", title="Crater photo")
    report = link(db, case, incident, investigator, store, b"%PDF-1.4 rep", title="Field report")
    return Team(investigator, lawyer, case, incident, photo, report, store)


def link(db, case, incident, actor, store, data, **fields):
    item = make_evidence(db, case, actor, store, data, **fields)
    evidence_services.link_evidence(db, incident, item, "", actor=actor)
    db.commit()
    return item


def page_url(incident) -> str:
    return f"/incidents/{incident.ref}/qualifications"


def finding_form(qualification, number: int, status="supported", note="", citations=None,
                 version=None) -> dict:
    """One element's form as the browser sends it: every field carries the form's prefix."""
    prefix = f"q{qualification.id}-e{number}-"
    data = {prefix + "status": status, prefix + "note": note,
            prefix + "version": str(version if version is not None else qualification.version)}
    for ref, stance in (citations or {}).items():
        data[f"{prefix}evidence-{ref}"] = stance
    return data


def assessment_form(qualification, assessment="probable", analysis="", version=None) -> dict:
    prefix = f"q{qualification.id}-"
    return {prefix + "assessment": assessment, prefix + "analysis": analysis,
            prefix + "version": str(version if version is not None else qualification.version)}


def state(db) -> tuple:
    """Everything a refused request must leave as it was."""
    rows = (
        [(r.id, r.provision_id, r.assessment, r.analysis, r.version)
         for r in db.exec(select(Qualification).order_by(Qualification.id)
                          .execution_options(populate_existing=True))],
        [(f.id, f.status, f.note) for f in db.exec(
            select(ElementFinding).order_by(ElementFinding.id)
            .execution_options(populate_existing=True))],
        db.exec(select(func.count()).select_from(ElementEvidence)).one(),
        db.exec(select(func.count()).select_from(AuditEntry)).one(),
    )
    db.commit()
    return rows


def fresh(db, qualification) -> Qualification:
    row = db.get(Qualification, qualification.id, populate_existing=True)
    db.commit()
    return row


def read(db, qualification) -> dict:
    data = q.qualification_read(db, fresh(db, qualification))
    db.commit()
    return data


# The page ------------------------------------------------------------------------------------

def test_the_page_shows_each_provision_element_finding_and_cited_evidence(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i", "probable",
                            "Two rockets on a market at noon.")
    q.set_finding(db, qualification, 1, "supported", "Crater analysis shows direction.",
                  [(team.photo.ref, "supports"), (team.report.ref, "context")],
                  actor=team.lawyer)
    db.commit()
    login(client, team.investigator)          # a reader of the case, who does not qualify
    response = client.get(page_url(team.incident))
    assert response.status_code == 200
    text = text_of(response)
    assert "War crime of attacking civilians (IAC) rs-8-2-b-i Assessment: Probable" in text
    assert "Two rockets on a market at noon." in text
    assert ("Element 1. The perpetrator directed an attack. Finding: Supported "
            "Crater analysis shows direction.") in text
    assert f"✓ Supports: {team.photo.ref} Crater photo" in text
    assert f"○ Context: {team.report.ref} Field report" in text
    assert "Element 2. The attack targeted the civilian population" in text
    assert "Finding: Not assessed No evidence cited." in text
    assert 'href="/provisions/rs-8-2-b-i"' in response.get_data(as_text=True)
    # no forms for a reader
    for words in ("Add a provision", "Suggested provisions", "Record the finding",
                  "Change the assessment"):
        assert words not in text


def test_a_lawyer_sees_the_forms_with_the_stored_values(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    q.set_finding(db, qualification, 2, "contested", "Disputed.",
                  [(team.report.ref, "contradicts")], actor=team.lawyer)
    db.commit()
    login(client, team.lawyer)
    response = client.get(page_url(team.incident))
    html = response.get_data(as_text=True)
    page = FormPage(html)
    prefix = f"q{qualification.id}-e2-"
    assert page.value(prefix + "status") == "contested"
    assert page.value(prefix + "note") == "Disputed."
    assert page.value(f"{prefix}evidence-{team.report.ref}") == "contradicts"
    assert page.value(f"{prefix}evidence-{team.photo.ref}") == ""         # not cited
    assert page.value(prefix + "version") == "2"
    assert page.value(f"q{qualification.id}-assessment") == "alleged"
    # the catalogue grouped by instrument, without the provision already added
    assert '<optgroup label="CIHL">' in html
    assert '<optgroup label="Rome Statute">' in html
    assert '<option value="cihl-11">' in html
    assert '<option value="rs-8-2-b-i">' not in html


def test_a_lawyer_adds_a_provision(client, db, team):
    login(client, team.lawyer)
    response = client.post(page_url(team.incident), data={
        "provision_key": "rs-8-2-b-i", "assessment": "probable", "analysis": "Market at noon."})
    assert response.status_code == 302
    [qualification] = q.qualifications_of(db, team.incident)
    db.commit()
    assert response.headers["Location"].endswith(f"#q{qualification.id}")
    assert (qualification.assessment, qualification.analysis) == ("probable", "Market at noon.")
    text = text_of(client.get(page_url(team.incident)))
    assert f"{team.incident.ref} is now qualified under rs-8-2-b-i (probable)." in text
    assert text.count("Finding: Not assessed") == 5
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    db.commit()
    assert (entry.entity, entry.action, entry.actor, entry.case_ref) == (
        "qualification", "create", "lawyer@example.org", team.case.ref)


@pytest.mark.parametrize("data, status, message", [
    ({"provision_key": "no-such-rule"}, 422,
     "There is no provision 'no-such-rule' in the catalogue."),
    ({"provision_key": ""}, 422, "Choose a provision."),
    ({"provision_key": "cihl-11", "assessment": "certain"}, 422,
     "Choose one of the listed options."),
])
def test_adding_a_provision_with_bad_input_names_the_problem(client, db, team, data, status,
                                                             message):
    login(client, team.lawyer)
    before = state(db)
    response = client.post(page_url(team.incident),
                           data={"assessment": "alleged", "analysis": "Kept.", **data})
    assert response.status_code == status
    page = FormPage(response.get_data(as_text=True))
    assert message in page.errors.values(), page.errors
    assert page.value("analysis") == "Kept."
    assert "Nothing was saved." in text_of(response)
    assert state(db) == before


def test_the_same_provision_cannot_be_added_twice(client, db, team):
    qualify(db, team.incident, team.lawyer, "cihl-11")
    login(client, team.lawyer)
    before = state(db)
    response = client.post(page_url(team.incident),
                           data={"provision_key": "cihl-11", "assessment": "established"})
    assert response.status_code == 409
    assert FormPage(response.get_data(as_text=True)).errors["provision_key"] == (
        f"{team.incident.ref} is already qualified under cihl-11.")
    assert state(db) == before


def test_a_lawyer_records_a_finding_with_evidence(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    response = client.post(
        f"{page_url(team.incident)}/{qualification.id}/elements/2",
        data=finding_form(qualification, 2, "supported", "Victims were shoppers.",
                          {team.photo.ref: "supports", team.report.ref: "contradicts"}))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#q{qualification.id}-e2")
    element = read(db, qualification)["elements"][1]
    assert (element["status"], element["note"]) == ("supported", "Victims were shoppers.")
    assert element["evidence"] == sorted([{"ref": team.photo.ref, "stance": "supports"},
                                          {"ref": team.report.ref, "stance": "contradicts"}],
                                         key=lambda c: c["ref"])
    text = text_of(client.get(page_url(team.incident)))
    assert "Finding on element 2 saved. Now version 2." in text
    assert f"✗ Contradicts: {team.report.ref}" in text
    # uncite one item, keep the other
    response = client.post(
        f"{page_url(team.incident)}/{qualification.id}/elements/2",
        data=finding_form(qualification, 2, "supported", "Victims were shoppers.",
                          {team.photo.ref: "supports", team.report.ref: ""}, version=2))
    assert response.status_code == 302
    assert read(db, qualification)["elements"][1]["evidence"] == [
        {"ref": team.photo.ref, "stance": "supports"}]


def test_saving_a_finding_unchanged_records_nothing(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    data = finding_form(qualification, 1, "supported", "Seen.", {team.photo.ref: "supports"})
    url = f"{page_url(team.incident)}/{qualification.id}/elements/1"
    assert client.post(url, data=data).status_code == 302
    before = state(db)
    response = client.post(url, data={**data, f"q{qualification.id}-e1-version": "2"})
    assert response.status_code == 302
    assert "Nothing was changed." in text_of(client.get(page_url(team.incident)))
    assert state(db) == before


def test_a_finding_citing_evidence_not_linked_to_the_incident_is_refused(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    unlinked = make_evidence(db, team.case, team.investigator, team.store, b"%PDF-1.4 u")
    other_case = make_case(db, team.investigator)
    foreign = make_evidence(db, other_case, team.investigator, team.store, b"%PDF-1.4 f")
    login(client, team.lawyer)
    before = state(db)
    url = f"{page_url(team.incident)}/{qualification.id}/elements/1"
    for item, message in ((unlinked, f"{unlinked.ref} is not linked to {team.incident.ref}; "
                                     f"link it to the incident first."),
                          (foreign, f"{foreign.ref} is not evidence of this case.")):
        response = client.post(url, data=finding_form(
            qualification, 1, "supported", "Mine.", {team.photo.ref: "supports",
                                                     item.ref: "supports"}))
        assert response.status_code == 422
        page = FormPage(response.get_data(as_text=True))
        assert page.errors[f"q{qualification.id}-e1-evidence"] == message
        assert page.value(f"q{qualification.id}-e1-note") == "Mine."     # the input is kept
        assert page.value(f"q{qualification.id}-e1-evidence-{team.photo.ref}") == "supports"
        assert "open" in re.search(r'<details class="edit-details"[^>]*>\s*<summary>Record the '
                                   r'finding on element 1<', response.get_data(as_text=True))[0]
        assert state(db) == before


def test_supported_without_supporting_evidence_is_named_on_the_evidence_field(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    before = state(db)
    response = client.post(f"{page_url(team.incident)}/{qualification.id}/elements/1",
                           data=finding_form(qualification, 1, "supported", "Seen on site."))
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert "cite at least one item" in page.errors[f"q{qualification.id}-e1-evidence"]
    assert page.value(f"q{qualification.id}-e1-note") == "Seen on site."
    assert state(db) == before


@pytest.mark.parametrize("number, changes, message", [
    (9, {}, "rs-8-2-b-i has no element 9; its elements are 1–5."),
    (1, {"status": "proven"}, "Choose one of the listed options."),
    (1, {"stance": "maybe"}, "choose supports, contradicts or context."),
    (1, {"stance": "context"}, "Element 1 is marked supported but no item is cited as "
                               "supporting it"),
    (1, {"stance": "contradicts"}, "Element 1 is marked supported but no item is cited as "
                                   "supporting it"),
])
def test_a_finding_with_bad_input_names_the_problem_and_saves_nothing(
        client, db, team, number, changes, message):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    before = state(db)
    data = finding_form(qualification, number, changes.get("status", "supported"), "",
                        {team.photo.ref: changes.get("stance", "supports")})
    response = client.post(f"{page_url(team.incident)}/{qualification.id}/elements/{number}",
                           data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert "Nothing was saved." in text_of(response)
    assert state(db) == before


def test_a_qualification_of_another_incident_is_not_found(client, db, team):
    other = make_incident(db, team.case, team.investigator, title="Second strike")
    qualification = qualify(db, other, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    before = state(db)
    response = client.post(f"{page_url(team.incident)}/{qualification.id}/elements/1",
                           data=finding_form(qualification, 1))
    assert response.status_code == 404
    assert client.post(f"{page_url(team.incident)}/999",
                       data=assessment_form(qualification)).status_code == 404
    assert state(db) == before


def test_the_assessment_and_analysis_are_edited(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "cihl-11")
    login(client, team.lawyer)
    response = client.post(f"{page_url(team.incident)}/{qualification.id}",
                           data=assessment_form(qualification, "established", "Shown."))
    assert response.status_code == 302
    stored = fresh(db, qualification)
    assert (stored.assessment, stored.analysis, stored.version) == ("established", "Shown.", 2)
    assert "Assessment and analysis saved. Now version 2." in text_of(
        client.get(page_url(team.incident)))


def test_an_edit_from_a_stale_page_shows_what_changed_and_keeps_the_input(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    colleague = make_user(db, "admin", email="admin@example.org")
    q.update_qualification(db, qualification, assessment="probable", analysis="Theirs.",
                           expected_version=1, actor=colleague)
    db.commit()
    login(client, team.lawyer)
    before = state(db)
    response = client.post(f"{page_url(team.incident)}/{qualification.id}",
                           data=assessment_form(qualification, "excluded", "Mine.", version=1))
    assert response.status_code == 409
    text = text_of(response)
    assert "Changed by someone else" in text
    assert "Nothing was saved" in text
    assert "Assessment Alleged Probable admin@example.org" in text
    page = FormPage(response.get_data(as_text=True))
    prefix = f"q{qualification.id}-"
    assert page.value(prefix + "analysis") == "Mine."
    assert page.value(prefix + "assessment") == "excluded"
    assert page.errors[prefix + "analysis"].startswith("Changed by admin@example.org")
    assert page.value(prefix + "version") == "2"
    assert state(db) == before
    again = client.post(f"{page_url(team.incident)}/{qualification.id}",
                        data=assessment_form(qualification, "excluded", "Mine.", version=2))
    assert again.status_code == 302
    assert fresh(db, qualification).assessment == "excluded"


def test_a_finding_from_a_stale_page_is_refused_with_the_findings_in_words(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    q.set_finding(db, qualification, 1, "supported", "", [(team.photo.ref, "supports")],
                  actor=team.lawyer)
    db.commit()
    login(client, team.lawyer)
    before = state(db)
    response = client.post(f"{page_url(team.incident)}/{qualification.id}/elements/1",
                           data=finding_form(qualification, 1, "not_met", "Mine.", version=1))
    assert response.status_code == 409
    text = text_of(response)
    assert "Changed by someone else" in text
    assert f"1: Supported ✓{team.photo.ref};" in text
    assert FormPage(response.get_data(as_text=True)).value(
        f"q{qualification.id}-e1-version") == "2"
    assert state(db) == before


# Applicability and suggestions -----------------------------------------------------------------

def set_party(db, instrument: str, state_code: str, status: str, since: str | None):
    inst = db.exec(select(Instrument).where(Instrument.short_name == instrument)).one()
    row = db.exec(select(InstrumentParty).where(InstrumentParty.instrument_id == inst.id,
                                                InstrumentParty.state == state_code)).first()
    row = row or InstrumentParty(instrument_id=inst.id, state=state_code, status=status)
    exact = date.fromisoformat(since) if since and len(since) == 10 else None
    row.status, row.since, row.in_force_for_state = status, since, exact
    row.deposit = since if since and len(since) == 4 else None
    row.confidence = "high"
    db.add(row)
    db.commit()


def test_a_state_bound_only_after_the_incident_draws_a_warning_with_the_customary_rule(
        client, db, team):
    set_party(db, "CCM", "ARM", "party", "2024-02-01")   # the incident is of 2020-10-04
    qualify(db, team.incident, team.lawyer, "ccm-1", analysis="Cluster rocket.")
    login(client, team.lawyer)
    response = client.get(page_url(team.incident))
    html, text = response.get_data(as_text=True), text_of(response)
    assert "This provision may not apply to this incident:" in text
    assert ("ARM was bound by CCM only from 2024-02-01; the incident (2020-10-04) is earlier."
            in text)
    assert "Provisions that do reach the conduct:" in text
    assert 'href="/provisions/cihl-11"' in html
    assert 'href="/provisions/cihl-71"' in html
    # the qualification is still shown in full, and the alternative is one click away
    assert "Cluster rocket." in text
    assert "Assessment: Alleged" in text
    assert re.search(r'name="provision_key" value="cihl-11"', html)
    response = client.post(page_url(team.incident),
                           data={"provision_key": "cihl-11", "assessment": "alleged"})
    assert response.status_code == 302
    assert {r["provision_key"] for r in (read(db, x) for x in q.qualifications_of(db, team.incident))} == {
        "ccm-1", "cihl-11"}
    # once bound before the incident, no warning
    set_party(db, "CCM", "ARM", "party", "2019-01-01")
    assert "may not apply" not in text_of(client.get(page_url(team.incident)))


def test_readers_see_the_warning_too(client, db, team):
    team.case.conflict_classification = "non-international"
    db.add(team.case)
    db.commit()
    qualify(db, team.incident, team.lawyer, "api-51-4")
    login(client, make_user(db, "auditor"))
    text = text_of(client.get(page_url(team.incident)))
    assert ("applies only in international armed conflict; this case is classified "
            "non-international") in text
    assert "Add cihl-" not in text


def test_suggestions_are_shown_with_reasons_and_accepted_in_one_click(client, db, team):
    incident = make_incident(db, team.case, team.investigator, incident_type="rocket",
                             weapon_type="300 mm rocket with cluster warhead",
                             responsible_party="State A armed forces")
    login(client, team.lawyer)
    response = client.get(page_url(incident))
    text = text_of(response)
    assert "Suggested provisions" in text
    assert "Nothing is added until you choose to." in text
    assert "The rocket carried a cluster warhead." in text
    assert "Unguided rockets in populated areas: indiscriminate attacks." in text
    assert not q.qualifications_of(db, incident)          # suggestions add nothing by themselves
    db.commit()
    form = re.search(r'<form method="post" action="([^"]+)" class="inline add-suggested">\s*'
                     r'<input type="hidden" name="csrf_token" value="[^"]*">\s*'
                     r'<input type="hidden" name="provision_key" value="ccm-1">\s*'
                     r'<input type="hidden" name="assessment" value="alleged">',
                     response.get_data(as_text=True))
    assert form
    assert form[1] == page_url(incident)
    accepted = client.post(form[1], data={"provision_key": "ccm-1", "assessment": "alleged"})
    assert accepted.status_code == 302
    text = text_of(client.get(page_url(incident)))
    assert "is now qualified under ccm-1 (alleged)" in text
    assert "The rocket carried a cluster warhead." not in text      # no longer suggested
    assert "Unguided rockets in populated areas" in text            # the others still are


# Proof matrices -------------------------------------------------------------------------------

def test_the_incident_matrix_highlights_gaps_and_uncited_evidence(client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    for number in (1, 3, 4, 5):
        q.set_finding(db, qualification, number, "supported", "",
                      [(team.photo.ref, "supports")], actor=team.lawyer)
    q.set_finding(db, qualification, 2, "contested", "", [(team.photo.ref, "contradicts")],
                  actor=team.lawyer)
    db.commit()
    login(client, team.investigator)
    response = client.get(f"/incidents/{team.incident.ref}/proof-matrix")
    assert response.status_code == 200
    html, text = response.get_data(as_text=True), text_of(response)
    assert ("1 of 5 elements with no supporting evidence; "
            "1 of 2 linked items cited by no element.") in text
    assert f"{team.incident.ref} / rs-8-2-b-i / element 2: no supporting evidence" in text
    assert f"{team.report.ref} Field report: cited by no element" in text
    rows = re.findall(r'<tr class="element-row( gap)?">(.*?)</tr>', html, re.S)
    gaps = [text_of_html(row) for gap, row in rows if gap]
    assert len(rows) == 5
    assert len(gaps) == 1  # rows are grouped by kind; the one gap is element 2
    assert "Element 2" in gaps[0]
    assert "No supporting evidence" in gaps[0]
    assert "✗ contradicts" in gaps[0]
    assert all("✓ supports" in text_of_html(row) for gap, row in rows if not gap)
    header = html[html.index("<thead>"):html.index("</thead>")]
    assert re.search(rf'class="evidence-col uncited"[^>]*>\s*<a href="/evidence/{team.report.ref}"',
                     header)
    assert "✓ supports" in text
    assert "✗ contradicts" in text
    assert "○ context" in text
    assert "<script" not in html


def text_of_html(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def _without_elements(db, key, lawyer):
    """Every provision of the bundled catalogue has elements since its second edition: a lawyer
    removes those of one, as a correction may."""
    from ihl_docs.provisions import services as provisions

    provision = provisions.get_provision(db, key)
    read_now = provisions.provision_read(db, provision)
    provisions.correct_provision(db, provision, provisions.ProvisionCorrection(**{
        **{k: v for k, v in read_now.items() if k in provisions.ProvisionCorrection.model_fields},
        "elements": []}), expected_version=provision.version, actor=lawyer)
    db.commit()


def test_the_case_matrix_summarises_gaps_across_incidents(client, db, team):
    second = make_incident(db, team.case, team.investigator, title="Second strike")
    make_incident(db, team.case, team.investigator, title="Not yet qualified")
    first_q = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    for number in range(1, 6):
        q.set_finding(db, first_q, number, "supported", "", [(team.photo.ref, "supports"),
                                                           (team.report.ref, "context")],
                      actor=team.lawyer)
    qualify(db, second, team.lawyer, "rs-8-2-b-ii")
    _without_elements(db, "cihl-11", team.lawyer)
    qualify(db, second, team.lawyer, "cihl-11")              # no elements: analysis only
    spare = link(db, team.case, second, team.investigator, team.store, b"%PDF-1.4 s",
                 title="Spare")
    db.commit()
    login(client, make_user(db, "auditor"))
    response = client.get(f"/cases/{team.case.ref}/proof-matrix")
    assert response.status_code == 200
    html, text = response.get_data(as_text=True), text_of(response)
    elements_b_ii = len(read(db, q.qualifications_of(db, second)[0])["elements"])
    assert "3 incidents, of which 1 not yet qualified" in text
    assert f"{elements_b_ii} of {5 + elements_b_ii} elements with no supporting evidence" in text
    assert f"{second.ref} / rs-8-2-b-ii / element 1: no supporting evidence" in text
    assert f"{team.incident.ref} / rs-8-2-b-i" not in text.split("By incident")[0]
    assert f"{second.ref} / {spare.ref} Spare: cited by no element" in text
    assert html.count('<details class="matrix-incident"') == 3
    assert "Not yet qualified under any provision." in text
    assert "Also qualified under (no elements to test): cihl-11." in text
    assert f'id="matrix-{second.ref}"' in html
    assert f'href="#matrix-{second.ref}"' in html
    # the short column heads drop the case's prefix; the full ref is there for screen readers
    short = team.photo.ref.removeprefix(team.case.ref + "-")
    assert f'<span aria-hidden="true">{short}</span>' in html


def test_the_case_matrix_stays_compact_for_fifty_incidents(client, db, team):
    incidents = [make_incident(db, team.case, team.investigator, title=f"Strike {n}")
                 for n in range(49)]
    for incident in incidents[::5]:
        qualify(db, incident, team.lawyer, "rs-8-2-b-i")
    login(client, team.lawyer)
    response = client.get(f"/cases/{team.case.ref}/proof-matrix")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('<details class="matrix-incident"') == 50
    assert '<details class="matrix-incident" id="matrix-' in html     # folded, not open
    assert "50 incidents, of which 40 not yet qualified" in text_of(response)
    assert "50 of 50 elements with no supporting evidence" in text_of(response)


# With CSRF on ----------------------------------------------------------------------------------

@pytest.fixture
def protected_client(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "protected-instance"))
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield application.test_client()
    application.extensions["ihl_engine"].dispose()


def test_qualification_forms_carry_the_token_and_need_it(protected_client, db, team):
    qualification = qualify(db, team.incident, team.lawyer, "rs-8-2-b-i")
    client = protected_client
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True))[1]
    assert client.post("/login", data={"email": team.lawyer.email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    before = state(db)
    url = f"{page_url(team.incident)}/{qualification.id}/elements/1"
    data = finding_form(qualification, 1, "supported", "", {team.photo.ref: "supports"})
    assert client.post(url, data=data).status_code == 400
    assert client.post(page_url(team.incident), data={
        "provision_key": "cihl-11", "assessment": "alleged"}).status_code == 400
    assert state(db) == before
    page = client.get(page_url(team.incident)).get_data(as_text=True)
    form = page[page.index(f'action="{url}"'):]
    field_token = re.search(r'name="(q\d+-e1-csrf_token)" type="hidden" value="([^"]+)"', form)
    response = client.post(url, data={**data, field_token[1]: field_token[2]})
    assert response.status_code == 302
    assert read(db, qualification)["elements"][0]["evidence"] == [
        {"ref": team.photo.ref, "stance": "supports"}]
    # the one-click suggestion carries the page's token as well
    suggestion = re.search(r'class="inline add-suggested">\s*<input type="hidden" '
                           r'name="csrf_token" value="([^"]+)">\s*<input type="hidden" '
                           r'name="provision_key" value="([^"]+)"', page)
    response = client.post(page_url(team.incident), data={
        "csrf_token": suggestion[1], "provision_key": suggestion[2], "assessment": "alleged"})
    assert response.status_code == 302


# Who may do what ------------------------------------------------------------------------------

@dataclass
class World:
    users: dict
    incidents: dict
    cases: dict
    qualifications: dict


@pytest.fixture
def world(db, team):
    outsider = make_user(db, "investigator")
    other_case = make_case(db, outsider)
    other_incident = make_incident(db, other_case, outsider)
    users = {"investigator": team.investigator, "legal": team.lawyer,
             "auditor": make_user(db, "auditor"), "admin": make_user(db, "admin"),
             "outsider": outsider, "outside-lawyer": make_user(db, "legal")}
    return World(users, {"own": team.incident, "other": other_incident},
                 {"own": team.case, "other": other_case},
                 {"own": qualify(db, team.incident, team.lawyer, "rs-8-2-b-i"),
                  "other": qualify(db, other_incident, users["admin"], "rs-8-2-b-i")})


READS = ["GET /incidents/{incident}/qualifications", "GET /incidents/{incident}/proof-matrix",
         "GET /cases/{case}/proof-matrix"]
POSTS = {
    "POST /incidents/{incident}/qualifications":
        lambda q_: {"provision_key": "cihl-11", "assessment": "alleged"},
    "POST /incidents/{incident}/qualifications/{q}":
        lambda q_: assessment_form(q_, "probable", "Changed."),
    "POST /incidents/{incident}/qualifications/{q}/elements/1":
        lambda q_: finding_form(q_, 1, "contested", "Changed."),
}
# (role, whose case) -> expected status of the reads and of the posts.
EXPECTED = {
    ("investigator", "own"): (200, 403), ("auditor", "own"): (200, 403),
    ("auditor", "other"): (200, 403), ("legal", "own"): (200, 302),
    ("admin", "own"): (200, 302), ("admin", "other"): (200, 302),
    ("legal", "other"): (404, 404), ("investigator", "other"): (404, 404),
    ("outside-lawyer", "own"): (404, 404),
}
TABLE = [(role, whose, endpoint, EXPECTED[role, whose][0 if endpoint in READS else 1])
         for role, whose in EXPECTED for endpoint in READS + list(POSTS)]


def call(client, world, whose, endpoint):
    method, template = endpoint.split(" ")
    qualification = world.qualifications[whose]
    url = template.format(case=world.cases[whose].ref, incident=world.incidents[whose].ref,
                          q=qualification.id)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=POSTS[endpoint](qualification))


@pytest.mark.parametrize("role, whose, endpoint, status", TABLE,
                         ids=[f"{r}-{w}-{e}" for r, w, e, _ in TABLE])
def test_role_on_case_gets_expected_status(client, db, world, role, whose, endpoint, status):
    login(client, world.users[role])
    before = state(db)
    response = call(client, world, whose, endpoint)
    assert response.status_code == status, response.get_data(as_text=True)[-500:]
    after = state(db)
    if status == 302:
        assert after[3] == before[3] + 1          # the change happened, and was recorded
    else:
        assert after == before
    if status == 404:
        assert world.incidents[whose].title not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", READS + list(POSTS))
def test_anonymous_visitors_are_sent_to_log_in(client, db, world, endpoint):
    before = state(db)
    response = call(client, world, "own", endpoint)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert state(db) == before


def test_a_hidden_incident_looks_like_one_that_does_not_exist(client, db, world):
    login(client, world.users["legal"])
    ref = world.incidents["other"].ref
    assert_hidden_looks_missing(client, f"/incidents/{ref}/qualifications", ref,
                                "/incidents/NO-SUCH-I001/qualifications", "NO-SUCH-I001")
