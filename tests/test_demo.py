"""`ihl demo`: the illustrative case on an empty instance, its refusals, and every page of it."""

import os
import re
import subprocess
import sys
import uuid

import pytest
from sqlmodel import func, select

from ihl_docs import create_app
from ihl_docs.cases import services as case_services
from ihl_docs.core import localtime
from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import open_session
from ihl_docs.core.models import (
    AuditEntry,
    Case,
    CustodyEvent,
    ElementEvidence,
    ElementFinding,
    Evidence,
    Incident,
    IncidentEvidence,
    Provision,
    Qualification,
    User,
)
from ihl_docs.core.schema import upgrade
from ihl_docs.demo.cases import CASE_REF, load_demo
from ihl_docs.evidence import services as evidence_services
from ihl_docs.qualifications import services as q
from tests.builders import load_catalogue, login, make_case, make_user

ACCOUNT_LINE = re.compile(r"^\s+(investigator|legal|auditor|admin)\s+(\S+@\S+)\s+(\S+)", re.M)


def run_demo(runner, db) -> dict[str, tuple[str, str]]:
    """Run `ihl demo`; role -> (e-mail, password) as printed."""
    db.rollback()  # hold no transaction (nor SQLite's write lock) while the command runs
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    return {role: (email, password)
            for role, email, password in ACCOUNT_LINE.findall(result.stdout)}


def counts(db) -> dict[str, int]:
    db.rollback()
    tables = (AuditEntry, User, Case, Incident, Evidence, CustodyEvent, Qualification, Provision)
    found = {t.__name__: db.exec(select(func.count()).select_from(t)).one() for t in tables}
    db.rollback()
    return found


@pytest.fixture
def demo(runner, db):
    return run_demo(runner, db)


def test_demo_loads_the_illustrative_case(demo, runner, db):
    assert set(demo) == {"investigator", "legal", "auditor", "admin"}
    case = db.exec(select(Case)).one()
    assert case.ref == CASE_REF
    assert "ILLUSTRATIVE DEMO" in case.title
    assert "ILLUSTRATIVE DEMO" in case.summary
    assert "invented places, people and parties" in case.title
    assert case.conflict_classification == "non-international"
    parties = case_services.parties(db, case)
    assert len(parties) == 2
    assert {(p.kind, p.state_code) for p in parties} == {("non-state", None)}

    incidents = db.exec(select(Incident).order_by(Incident.ref)).all()
    assert 4 <= len(incidents) <= 6
    assert len({i.incident_type for i in incidents}) == len(incidents)
    assert {i.date_precision for i in incidents} == {"exact", "day", "month", "approximate"}
    assert {i.workflow_status for i in incidents} == {"draft", "submitted", "in_legal_review",
                                                      "approved"}
    assert len({i.verification_status for i in incidents}) == 4
    assert all("invented" in i.narrative and "(invented place)" in i.place_name for i in incidents)
    assert all(i.latitude is not None and i.location_precision_m for i in incidents)
    # the invented region is at UTC-8: the market shelling at 09:40 local, as its narrative says
    assert {i.utc_offset_minutes for i in incidents} == {-480}
    market = incidents[0]
    assert localtime.incident_when(market) == (
        "2023-03-14 09:40 -08:00 (2023-03-14 17:40 UTC)")
    assert "09:40 local time" in market.narrative
    assert [localtime.local_date(i).isoformat() for i in incidents[1:2]] == ["2023-03-15"]

    items = {e.ref: e for e in db.exec(select(Evidence).order_by(Evidence.ref))}
    assert all("ILLUSTRATIVE DEMO" in e.description for e in items.values())
    assert {e.sensitivity for e in items.values()} == {"public", "restricted", "confidential"}
    photos = [e for e in items.values() if e.kind == "photo"]
    exif = [e for e in photos if e.capture_time and e.capture_latitude is not None
            and e.capture_device]
    assert exif
    assert all(e.media_type == "image/jpeg" for e in photos)
    flagged = [e.ref for e in photos if evidence_services.metadata_discrepancies(
        e, [i for i, _ in evidence_services.linked_incidents(db, e)])]
    assert len(flagged) == 1
    testimony = next(e for e in items.values() if e.kind == "testimony")
    assert testimony.sensitivity == "confidential"
    assert testimony.media_type == "text/plain"
    physical = next(e for e in items.values() if e.kind == "physical_item")
    assert physical.sha256 is None
    assert physical.size is None
    post = next(e for e in items.values() if e.kind == "open_source_post")
    assert post.sensitivity == "public"
    assert post.source_url
    assert post.published_at
    assert {"application/pdf"} <= {e.media_type for e in items.values()}
    assert all(e.reliability and e.credibility for e in items.values())
    unlinked = db.exec(select(Evidence.ref).where(Evidence.id.not_in(
        select(IncidentEvidence.evidence_id)))).all()
    assert unlinked == []

    chain = [e.action for e in evidence_services.custody_chain(db, physical)]
    assert chain[0] == "collected"
    assert "transferred" in chain
    assert "analysed" in chain
    assert chain.index("transferred") < chain.index("stored")
    for item in items.values():  # every chain is consistent: no gap, no unexplained hand-over
        assert evidence_services.custody_warnings(
            evidence_services.custody_chain(db, item)) == {}, item.ref

    findings = db.exec(select(ElementFinding)).all()
    assert db.exec(select(func.count()).select_from(Qualification)).one() >= 4
    stances = set(db.exec(select(ElementEvidence.stance)).all())
    assert stances == {"supports", "contradicts", "context"}
    open_elements = [f for f in findings if f.status == "not_assessed"]
    assert len(open_elements) == 1
    assert q.citations_of(db, open_elements[0]) == []
    gaps = [(i.ref, row.number) for i in incidents for row in q.proof_matrix(db, i).gaps]
    assert len(gaps) == 1
    warnings = [w["code"] for qual in db.exec(select(Qualification))
                for w in q.qualification_read(db, qual)["warnings"]]
    assert "iac_only" in warnings

    accounts = {u.email: u for u in db.exec(select(User))}
    members = {u.email for u in case_services.members(db, case)}
    for role in ("investigator", "legal", "auditor"):
        email = demo[role][0]
        assert accounts[email].role == role
        assert not accounts[email].must_change_password
    assert {demo["investigator"][0], demo["legal"][0]} <= members
    assert accounts[demo["admin"][0]].must_change_password

    verify = runner.invoke(args=["verify"])
    assert verify.exit_code == 0, verify.output


def test_demo_refuses_a_second_run_and_changes_nothing(demo, runner, db):
    before = counts(db)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "already holds a case" in result.stderr
    assert counts(db) == before


def test_demo_refuses_a_database_with_a_case(runner, db):
    investigator = make_user(db, "investigator")
    make_case(db, investigator, title="A real case")
    before = counts(db)
    assert before["Provision"] == 0
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "already holds a case" in result.stderr
    assert "Traceback" not in result.output
    assert counts(db) == before


def test_demo_with_existing_accounts_creates_no_administrator(runner, db):
    make_user(db, "admin", email="boss@example.org")
    accounts = run_demo(runner, db)
    assert "admin" not in accounts
    assert db.exec(select(func.count()).select_from(User)).one() == 4


def demo_pages(db) -> list[str]:
    case = db.exec(select(Case)).one()
    pages = ["/", "/incidents", "/provisions", "/provisions/suggestions", f"/cases/{case.ref}",
             f"/cases/{case.ref}/incidents", f"/cases/{case.ref}/evidence",
             f"/cases/{case.ref}/proof-matrix"]
    for incident in db.exec(select(Incident).order_by(Incident.ref)):
        pages += [f"/incidents/{incident.ref}", f"/incidents/{incident.ref}/qualifications",
                  f"/incidents/{incident.ref}/proof-matrix"]
    for item in db.exec(select(Evidence).order_by(Evidence.ref)):
        pages.append(f"/evidence/{item.ref}")
        if item.media_type.startswith("image/"):
            pages.append(f"/evidence/{item.ref}/thumbnail")
    keys = db.exec(select(Provision.key).join(Qualification, Qualification.provision_id
                                              == Provision.id).distinct()).all()
    pages += [f"/provisions/{key}" for key in sorted(keys)]
    return pages


def investigator_pages(db) -> list[str]:
    case = db.exec(select(Case)).one()
    pages = [f"/cases/{case.ref}/edit", f"/cases/{case.ref}/evidence/new"]
    for incident in db.exec(select(Incident).where(Incident.workflow_status != "approved")):
        pages += [f"/incidents/{incident.ref}/edit", f"/incidents/{incident.ref}/evidence/link"]
    return pages


@pytest.mark.parametrize("role", ["investigator", "legal", "auditor"])
def test_every_page_of_the_demo_case_answers_for_a_demo_user(demo, app, client, db, role):
    email, password = demo[role]
    assert login(client, email, password).status_code == 302
    pages = demo_pages(db) + (investigator_pages(db) if role == "investigator" else [])
    if "dossiers.case_dossiers" in app.view_functions:
        pages.append(f"/cases/{CASE_REF}/dossiers")
    db.rollback()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (role, url, response.status_code)
    case_page = client.get(f"/cases/{CASE_REF}").get_data(as_text=True)
    assert "ILLUSTRATIVE DEMO" in case_page
    flagged = client.get(f"/evidence/{CASE_REF}-E0002").get_data(as_text=True)
    assert "metadata disagrees with the record" in flagged
    assert "km from incident" in flagged


def _content(session) -> dict:
    """The demo case as a reader sees it, without recording times and database ids."""
    case = session.exec(select(Case)).one()
    skip = {"id", "case_id", "created_at", "updated_at", "created_by_id", "recorded_at",
            "evidence_id", "responsible_party_id"}

    def plain(row):
        return {k: v for k, v in audit.snapshot(row).items() if k not in skip}

    events = [plain(e) for e in session.exec(select(CustodyEvent).order_by(CustodyEvent.id))
              if e.action != "received"]  # "received" is the moment of loading
    findings = [(f.element_number, f.status, f.note, q.citations_of(session, f))
                for f in session.exec(select(ElementFinding).order_by(ElementFinding.id))]
    return {"case": plain(case),
            "incidents": [plain(i) for i in session.exec(select(Incident).order_by(Incident.id))],
            "evidence": [plain(e) for e in session.exec(select(Evidence).order_by(Evidence.id))],
            "custody": events, "findings": findings,
            "qualifications": [(r.assessment, r.analysis) for r in session.exec(
                select(Qualification).order_by(Qualification.id))]}


def test_two_loads_give_the_same_case_content(app, db, tmp_path):
    load_catalogue(db)
    load_demo(db, store=app.extensions["ihl_store"], actor="test")
    db.commit()
    first = _content(db)

    other = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}",
                        "EVIDENCE_DIR": str(tmp_path / "other-evidence"),
                        "SECRET_KEY": uuid.uuid4().hex, "TESTING": True})
    engine = other.extensions["ihl_engine"]
    try:
        upgrade(engine)
        with open_session(engine) as session:
            load_catalogue(session)
            load_demo(session, store=other.extensions["ihl_store"], actor="test")
            session.commit()
            second = _content(session)
    finally:
        engine.dispose()
    assert second == first
    assert all(e["sha256"] for e in first["evidence"] if e["kind"] != "physical_item")


@pytest.mark.slow
def test_console_script_on_a_new_instance(tmp_path):
    """`ihl demo` alone on nothing at all: schema, catalogue, administrator, case; then verify."""
    env = {**os.environ, "IHL_DATABASE_URL": f"sqlite:///{tmp_path / 'ihl.sqlite3'}",
           "IHL_INSTANCE_DIR": str(tmp_path / "instance"),
           "IHL_EVIDENCE_DIR": str(tmp_path / "evidence")}
    ihl = os.path.join(os.path.dirname(sys.executable), "ihl")
    demo = subprocess.run([ihl, "demo"], env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "Schema upgraded from nothing" in demo.stdout
    assert CASE_REF in demo.stdout
    assert {m[0] for m in ACCOUNT_LINE.findall(demo.stdout)} == {"investigator", "legal",
                                                                  "auditor", "admin"}
    verify = subprocess.run([ihl, "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = subprocess.run([ihl, "demo"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert "Traceback" not in again.stderr
    assert again.stderr.startswith("Error: This database already holds a case")


def test_the_demo_case_shows_what_court_dossiers_must(app, db):
    """The demo shows each guarantee of the court edition: its witness protected, draft
    incidents left out, a local date that differs from the UTC one, back-filled custody marked."""
    from ihl_docs.dossiers.content import collect, disclosure_check

    load_catalogue(db)
    load_demo(db, store=app.extensions["ihl_store"], actor="test")
    db.commit()
    case = db.exec(select(Case)).one()
    store = app.extensions["ihl_store"]
    hits = disclosure_check(db, case, audience="court", prepared_by="Idris Fenn", store=store)
    assert {h.becomes for h in hits} >= {"[protected 1]", "[protected phone 1]"}
    content = collect(db, case, audience="court", prepared_by="Idris Fenn", store=store)
    text = str(content)
    assert "Teodor Vantz" not in text
    assert "555 0147" not in text
    assert "Mara Quill" not in text  # the demo investigator, by role and pseudonym
    assert [i["workflow_status"] for i in content["incidents"]] == ["approved"]
    assert {e["ref"] for e in content["excluded_incidents"]} == {
        f"{CASE_REF}-I00{n}" for n in (2, 3, 4, 5)}
    internal = collect(db, case, audience="internal", prepared_by="x", store=store)
    hospital = next(i for i in db.exec(select(Incident)) if "hospital" in i.title)
    assert localtime.local_date(hospital).isoformat() == "2023-03-21"  # 04:30 UTC on the 22nd
    assert hospital.occurred_from.isoformat().startswith("2023-03-22T04:30")
    assert any(event["recorded_later"] for item in internal["evidence"]
               for event in item["custody"])
