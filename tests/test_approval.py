"""Approving an incident whose elements lack supporting evidence or whose facts are not verified
needs an approval note; the note is kept, shown, printed, and its history survives reopening."""

import json

import pytest
from sqlmodel import select

from ihl_docs.cases import services as case_services
from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.replay import projections
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import AuditEntry, Incident
from ihl_docs.dossiers import content
from ihl_docs.dossiers.sections import plan_sections
from ihl_docs.dossiers.templating import template_environment
from ihl_docs.evidence import services as evidence_services
from ihl_docs.incidents import services as incidents
from ihl_docs.qualifications import services as q
from ihl_docs.verification import verify_all
from tests.builders import load_catalogue, login, make_case, make_evidence, make_incident, make_user, qualify
from tests.pages_support import FormPage, text_of
from tests.tampering import sql

KEY = "rs-8-2-b-i"  # five elements


@pytest.fixture
def review(db, app):
    """An incident in legal review, qualified under rs-8-2-b-i, with one linked photo that
    supports elements 1 and 3 only; unverified unless a test says otherwise."""
    load_catalogue(db)
    investigator, lawyer = make_user(db), make_user(db, "legal")
    case = make_case(db, investigator)
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator)
    photo = make_evidence(db, case, investigator, app.extensions["ihl_store"], b"%PDF-1.4 p")
    evidence_services.link_evidence(db, incident, photo, "", actor=investigator)
    qualification = qualify(db, incident, lawyer, KEY)
    for number in (1, 3):
        q.set_finding(db, qualification, number, "supported", "", [(photo.ref, "supports")],
                      actor=lawyer)
    incidents.change_status(db, incident, "submitted", expected_version=1, actor=investigator)
    incidents.change_status(db, incident, "in_legal_review", expected_version=2, actor=lawyer)
    db.commit()
    return {"incident": incident, "lawyer": lawyer, "qualification": qualification,
            "photo": photo, "case": case, "investigator": investigator}


def fresh(db, incident) -> Incident:
    row = db.get(Incident, incident.id, populate_existing=True)
    db.commit()
    return row


def approve(db, app, review, note=""):
    incident = fresh(db, review["incident"])
    with app.app_context():
        incidents.change_status(db, incident, "approved", expected_version=incident.version,
                                actor=review["lawyer"], note=note)
    db.commit()
    return incident


def test_approving_with_gaps_and_no_note_names_them_and_changes_nothing(db, app, review):
    entries = db.exec(select(AuditEntry.seq)).all()
    with pytest.raises(InvalidInput) as refused:
        approve(db, app, review)
    db.rollback()
    expected = (f"Approving {review['incident'].ref} needs an approval note saying why: 3 of 5 "
                f"elements of {KEY} have no supporting evidence: 2, 4, 5; the incident is "
                f"unverified.")
    assert refused.value.fields == {"note": expected}
    assert refused.value.message == expected
    stored = fresh(db, review["incident"])
    assert (stored.workflow_status, stored.approval_note, stored.version) == (
        "in_legal_review", "", 3)
    assert db.exec(select(AuditEntry.seq)).all() == entries


def test_a_blank_note_is_no_note(db, app, review):
    with pytest.raises(InvalidInput):
        approve(db, app, review, note="   \n ")


def test_a_note_too_long_is_refused_on_the_page(client, db, review):
    login(client, review["lawyer"])
    response = client.post(f"/incidents/{review['incident'].ref}/status",
                           data={"to": "approved", "version": "3", "note": "x" * 20_001})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors["note"] == (
        "The approval note is too long: at most 20,000 characters.")
    assert fresh(db, review["incident"]).workflow_status == "in_legal_review"


def test_the_note_is_kept_audited_and_cleared_on_reopening_with_its_history(db, app, review):
    approve(db, app, review, note="  Elements 2, 4 and 5 rest on the analysis; see annex.  ")
    stored = fresh(db, review["incident"])
    assert (stored.workflow_status, stored.approval_note) == (
        "approved", "Elements 2, 4 and 5 rest on the analysis; see annex.")
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "incident")
                    .order_by(AuditEntry.seq.desc())).first()
    assert json.loads(entry.change)["after"]["approval_note"] == stored.approval_note
    assert incidents.incident_read(db, stored).approval_note == stored.approval_note

    incidents.change_status(db, stored, "in_legal_review", expected_version=stored.version,
                            actor=review["lawyer"])
    db.commit()
    reopened = fresh(db, review["incident"])
    assert (reopened.workflow_status, reopened.approval_note) == ("in_legal_review", "")
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "incident")
                    .order_by(AuditEntry.seq.desc())).first()
    change = json.loads(entry.change)
    assert change["before"]["approval_note"] == "Elements 2, 4 and 5 rest on the analysis; see annex."
    assert change["after"]["approval_note"] == ""


def test_a_clean_approval_needs_no_note(db, app, review):
    incident = fresh(db, review["incident"])
    incidents.update_incident(db, incident, {"verification_status": "verified"},
                              expected_version=incident.version, actor=review["investigator"])
    for number in (2, 4, 5):
        q.set_finding(db, review["qualification"], number, "supported", "",
                      [(review["photo"].ref, "supports")], actor=review["lawyer"])
    db.commit()
    assert (approve(db, app, review).workflow_status, fresh(db, incident).approval_note) == (
        "approved", "")


def test_only_the_unverified_status_is_named_when_every_element_is_supported(db, app, review):
    for number in (2, 4, 5):
        q.set_finding(db, review["qualification"], number, "supported", "",
                      [(review["photo"].ref, "supports")], actor=review["lawyer"])
    incident = fresh(db, review["incident"])
    incidents.update_incident(db, incident, {"verification_status": "disputed"},
                              expected_version=incident.version, actor=review["investigator"])
    db.commit()
    with pytest.raises(InvalidInput) as refused:
        approve(db, app, review)
    assert refused.value.message.endswith("needs an approval note saying why: the incident is "
                                          "disputed.")


def test_approval_outside_the_application_is_refused_rather_than_unchecked(db, review):
    incident = fresh(db, review["incident"])
    with pytest.raises(RuntimeError):
        incidents.change_status(db, incident, "approved", expected_version=incident.version,
                                actor=review["lawyer"])


def test_the_page_shows_the_gaps_refuses_without_a_note_and_keeps_one(client, db, review):
    ref = review["incident"].ref
    login(client, review["lawyer"])
    page = text_of(client.get(f"/incidents/{ref}"))
    assert (f"Approving needs a note: 3 of 5 elements of {KEY} have no supporting evidence: "
            f"2, 4, 5; the incident is unverified.") in page
    response = client.post(f"/incidents/{ref}/status", data={"to": "approved", "version": "3"})
    assert response.status_code == 422
    assert "have no supporting evidence: 2, 4, 5" in FormPage(
        response.get_data(as_text=True)).errors["note"]
    assert fresh(db, review["incident"]).workflow_status == "in_legal_review"

    response = client.post(f"/incidents/{ref}/status", data={
        "to": "approved", "version": "3", "note": "Remaining elements rest on the analysis."})
    assert response.status_code == 302
    page = text_of(client.get(f"/incidents/{ref}"))
    assert "Approved with note: Remaining elements rest on the analysis." in page
    assert "Approval note: — → Remaining elements rest on the analysis." in page

    assert client.post(f"/incidents/{ref}/status", data={
        "to": "in_legal_review", "version": "4"}).status_code == 302
    page = text_of(client.get(f"/incidents/{ref}"))
    assert "Approved with note:" not in page
    assert "Approval note: Remaining elements rest on the analysis. → —" in page


def test_the_api_takes_the_note(client, db, review, as_role):
    ref = review["incident"].ref
    admin, headers = as_role("admin")
    url = f"/api/v1/incidents/{ref}/status"
    refused = client.post(url, headers={**headers, "If-Match": "3"},
                          json={"workflow_status": "approved"})
    assert refused.status_code == 422
    assert "3 of 5 elements" in refused.get_json()["error"]["fields"]["note"]
    approved = client.post(url, headers={**headers, "If-Match": "3"},
                           json={"workflow_status": "approved", "note": "See the analysis."})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["approval_note"] == "See the analysis."
    shown = client.get(f"/api/v1/incidents/{ref}", headers=headers).get_json()
    assert shown["approval_note"] == "See the analysis."


def test_the_dossier_prints_the_note_beside_the_status(db, app, review):
    store = app.extensions["ihl_store"]
    before = content.collect(db, review["case"], audience="internal", prepared_by="x",
                             store=store)
    assert "approval_note" not in before["incidents"][0]
    approve(db, app, review, note="Remaining elements rest on the analysis.")
    collected = content.collect(db, review["case"], audience="internal", prepared_by="x",
                                store=store)
    assert collected["incidents"][0]["approval_note"] == "Remaining elements rest on the analysis."
    html = next(s.html for s in plan_sections(template_environment(), collected)
                if s.title.startswith(review["incident"].ref))
    assert ("<th>Approved with note</th><td colspan=\"3\" class=\"narrative\">Remaining "
            "elements rest on the analysis.</td>") in html


def test_verification_holds_the_note_against_the_log(db, app, review):
    approve(db, app, review, note="Remaining elements rest on the analysis.")
    assert verification_problems(db, app) == []
    sql(db, "UPDATE incident SET approval_note = 'Everything proven.' WHERE ref = :r",
        r=review["incident"].ref)
    found = verification_problems(db, app)
    assert any(f"incident {review['incident'].ref}: approval_note differs" in p for p in found)


def verification_problems(db, app) -> list[str]:
    db.expire_all()
    db.commit()
    report = verify_all(db, app.extensions["ihl_store"], kinds=projections(app),
                        witnesses=Witnesses.from_config(app.config))
    db.commit()
    return report["problems"]


def test_a_qualification_assessed_as_excluded_asks_for_no_note(db, app, review):
    """An excluded qualification asserts nothing: its elements without evidence are not gaps."""
    incident = fresh(db, review["incident"])
    incidents.update_incident(db, incident, {"verification_status": "verified"},
                              expected_version=incident.version, actor=review["investigator"])
    db.commit()
    q.update_qualification(db, review["qualification"], assessment="excluded",
                           analysis="No military objective was nearby; the attack was not "
                                    "directed at civilians as such.",
                           expected_version=review["qualification"].version,
                           actor=review["lawyer"])
    db.commit()
    approved = approve(db, app, review)
    assert approved.workflow_status == "approved"
    assert approved.approval_note == ""
