"""A dossier's scope (the incidents it covers), its casualty figures as the incident page gives
them, and its "what is missing or has changed" list."""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import AuditEntry, CustodyEventCreate, Dossier, Incident, WorkflowStatus
from ihl_docs.dossiers import services
from ihl_docs.dossiers.content import collect
from ihl_docs.evidence import services as evidence_services
from ihl_docs.incidents.facts import harm_text
from ihl_docs.qualifications import services as qualifications
from tests.builders import load_catalogue, make_case, make_evidence, make_incident, make_user, qualify
from tests.dossier_support import build_pdf as build
from tests.dossier_support import pdf_text as text_of


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def lawyer(db):
    return make_user(db, "admin", name="Lena Lawyer")


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


def approve(db, incident):
    row = db.get(Incident, incident.id)
    row.workflow_status = WorkflowStatus.approved
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def mixed(db, lawyer):
    """An approved incident (exact count, 0 children) and a draft one (a range, unknown injured)."""
    case = make_case(db, lawyer, ref="NK-2020-001")
    approved = approve(db, make_incident(db, case, lawyer, title="Strike on the bakery",
                                         killed_min=3, killed_max=3, children_killed=0))
    draft = make_incident(db, case, lawyer, title="Shelling of the school", killed_min=3,
                          killed_max=5, children_killed=None)
    return {"case": case, "approved": approved, "draft": draft}


def dossier_count(db) -> tuple[int, int]:
    counts = (len(db.exec(select(Dossier)).all()),
              len(db.exec(select(AuditEntry).where(AuditEntry.entity == "dossier")).all()))
    db.commit()
    return counts


# ---- figures ----------------------------------------------------------------------------------

@pytest.mark.parametrize("low, high, children, text", [
    (3, 3, None, "3"), (3, None, None, "3"), (3, 5, None, "3–5"), (None, 5, None, "up to 5"),
    (None, None, None, "unknown"), (3, 3, 0, "3, of whom 0 children"),
    (2, 4, 1, "2–4, of whom 1 child"), (None, None, 0, "unknown, of whom 0 children")])
def test_harm_is_written_as_the_incident_page_states_it(low, high, children, text):
    assert harm_text(low, high, children) == text


def test_the_pdf_gives_casualties_exactly_never_a_question_mark(db, app, mixed, lawyer):
    make_incident(db, mixed["case"], lawyer, title="Unknown toll", killed_min=None,
                  killed_max=None, children_killed=None)
    pdf, _ = build(db, app, mixed["case"])
    squeezed = flat(text_of(pdf))
    for expected in ("Civilianskilled3,ofwhom0children", "Civilianskilled3–5",
                     "Civilianskilledunknown"):
        assert expected in squeezed
    assert "?" not in "".join(line for line in text_of(pdf).splitlines() if "killed" in line)


def test_the_incident_page_uses_the_same_words(client, db, mixed, lawyer):
    from tests.builders import login
    login(client, lawyer)
    page = client.get(f"/incidents/{mixed['approved'].ref}").get_data(as_text=True)
    assert "3, of whom 0 children" in page


# ---- scope ------------------------------------------------------------------------------------

def test_the_court_edition_covers_approved_incidents_and_lists_the_others(db, app, mixed):
    pdf, _ = build(db, app, mixed["case"], audience="court")
    text = text_of(pdf)
    assert "Strike on the bakery" in text
    assert "Shelling of the school" not in text
    assert "Not in this edition" in text
    assert f"{mixed['draft'].ref} (Draft)" in text


def test_the_internal_edition_covers_every_incident(db, app, mixed, store):
    content = collect(db, mixed["case"], audience="internal", prepared_by="", store=store)
    assert content["scope"] == [mixed["approved"].ref, mixed["draft"].ref]
    assert "excluded_incidents" not in content


def test_a_chosen_scope_is_recorded_built_and_printed(db, app, mixed, lawyer, store):
    dossier = services.request_dossier(db, mixed["case"], audience="public", prepared_by="",
                                       actor=lawyer, incidents=[f" {mixed['draft'].ref} "])
    db.commit()
    assert services.chosen_incidents(dossier) == [mixed["draft"].ref]
    content = collect(db, mixed["case"], audience="public", prepared_by="", store=store,
                      incidents=services.chosen_incidents(dossier))
    assert [i["ref"] for i in content["incidents"]] == [mixed["draft"].ref]
    assert content["excluded_incidents"] == [{"ref": mixed["approved"].ref,
                                              "workflow_status": "approved"}]
    pdf, _ = build(db, app, mixed["case"], audience="public")  # default: the approved one
    assert f"Incidents covered by this edition: {mixed['approved'].ref}" in text_of(pdf)


@pytest.mark.parametrize("chosen", [[], ["  "]])
def test_a_dossier_of_no_incident_is_refused_before_anything_is_recorded(db, mixed, lawyer,
                                                                         chosen):
    with pytest.raises(InvalidInput) as refused:
        services.request_dossier(db, mixed["case"], audience="internal", prepared_by="",
                                 actor=lawyer, incidents=chosen)
    db.rollback()
    assert "at least one incident" in refused.value.fields["incidents"]
    assert dossier_count(db) == (0, 0)


def test_a_court_dossier_of_a_case_without_approved_incident_is_refused(db, lawyer):
    case = make_case(db, lawyer)
    make_incident(db, case, lawyer)
    with pytest.raises(InvalidInput) as refused:
        services.request_dossier(db, case, audience="court", prepared_by="", actor=lawyer)
    db.rollback()
    assert "choose the incidents" in refused.value.fields["incidents"]
    assert dossier_count(db) == (0, 0)


def test_an_incident_of_another_case_or_unknown_is_refused(db, mixed, lawyer):
    other = make_case(db, lawyer, ref="NK-2020-002")
    foreign = make_incident(db, other, lawyer)
    for ref in (foreign.ref, "NK-2020-001-I999"):
        with pytest.raises(InvalidInput) as refused:
            services.request_dossier(db, mixed["case"], audience="internal", prepared_by="",
                                     actor=lawyer, incidents=[mixed["approved"].ref, ref])
        db.rollback()
        assert ref in refused.value.fields["incidents"]
    assert dossier_count(db) == (0, 0)


# ---- what is missing or has changed --------------------------------------------------------------

def test_the_missing_page_lists_each_kind_of_gap(db, app, mixed, lawyer, store):
    load_catalogue(db)
    incident = mixed["draft"]
    photo = make_evidence(db, mixed["case"], lawyer, store, b"%PDF-1.4 photo report",
                          title="Report", sensitivity="public")
    evidence_services.link_evidence(db, incident, photo, "seen", actor=lawyer)
    evidence_services.record_custody(db, photo, CustodyEventCreate(
        action="transferred", occurred_at=datetime.now(UTC), custodian_from="Someone Else",
        custodian_to="Evidence unit"), actor=lawyer, store=store)
    db.commit()
    qualification = qualify(db, incident, lawyer, key="rs-8-2-b-i", assessment="probable")
    qualifications.set_finding(db, qualification, 1, "contested", "The report says otherwise.",
                               [(photo.ref, "contradicts")], actor=lawyer)
    db.commit()
    content = collect(db, mixed["case"], audience="internal", prepared_by="", store=store)
    missing = content["missing"]
    ref = incident.ref
    warnings = content["incidents"][1]["qualifications"][0]["warnings"]
    assert warnings, "the Rome Statute in Armenia in 2020 raises a jurisdiction warning"
    expected = [
        f"Incident {ref} is not approved (workflow status: Draft).",
        f"Incident {ref}, rs-8-2-b-i: {warnings[0]['message']}",
        f"Incident {ref}, rs-8-2-b-i element 1: no supporting evidence cited.",
        f"Incident {ref}, rs-8-2-b-i element 1: evidence {photo.ref} contradicts it.",
    ]
    for line in expected:
        assert line in missing
    assert any(line.startswith(f"Evidence {photo.ref}, custody (") and "Someone Else" in line
               for line in missing)
    assert not any(mixed["approved"].ref in line and "not approved" in line for line in missing)
    pdf, _ = build(db, app, mixed["case"])
    squeezed = flat(text_of(pdf))
    for line in expected:
        assert flat(line) in squeezed


def test_evidence_of_incidents_outside_the_scope_stays_out(db, app, mixed, lawyer, store):
    """An item linked only to a draft incident is not in the court edition that leaves the draft
    out; case evidence linked to no incident, and items of covered incidents, are."""
    case = mixed["case"]
    of_draft = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 draft only",
                             title="Draft-only report", sensitivity="public")
    of_both = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 both",
                            title="Shared report", sensitivity="public")
    unlinked = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 case-level",
                             title="Case-level report", sensitivity="public")
    evidence_services.link_evidence(db, mixed["draft"], of_draft, "", actor=lawyer)
    evidence_services.link_evidence(db, mixed["draft"], of_both, "", actor=lawyer)
    evidence_services.link_evidence(db, mixed["approved"], of_both, "", actor=lawyer)
    db.commit()
    court = collect(db, case, audience="court", prepared_by="x", store=store)
    assert {e["ref"] for e in court["evidence"]} == {of_both.ref, unlinked.ref}
    assert court["out_of_scope_count"] == 1
    assert "1 evidence item(s) linked only to incidents not in this edition are left out." \
        in court["missing"]
    internal = collect(db, case, audience="internal", prepared_by="x", store=store)
    assert {e["ref"] for e in internal["evidence"]} == {of_draft.ref, of_both.ref, unlinked.ref}
    assert "out_of_scope_count" not in internal
