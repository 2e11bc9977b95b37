"""Dossier records and the job that builds them: who may request one, refs, the audit trail,
progress, the stored PDF and its `exported` custody events, and failures that keep nothing."""

import hashlib
import json
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from ihl_docs.cases import services as case_services
from ihl_docs.core import progress as progress_module
from ihl_docs.core.audit.log import verify_chain
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Forbidden, InvalidInput
from ihl_docs.core.models import AuditEntry, CustodyEvent, Dossier, DossierStatus
from ihl_docs.dossiers import services
from tests.builders import approve_incident, make_case, make_evidence, make_incident, make_user
from tests.dossier_support import fresh, make_dossier, quick_build, stored_files


@pytest.fixture
def team(db, app):
    investigator = make_user(db, "investigator", name="Ina Vestigator")
    lawyer = make_user(db, "legal", name="Lena Lawyer")
    case = make_case(db, investigator)
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    store = app.extensions["ihl_store"]
    items = [make_evidence(db, case, investigator, store, b"%PDF-1.4 public " + bytes([n]),
                           title=f"Public report {n}", sensitivity="public") for n in range(2)]
    items.append(make_evidence(db, case, investigator, store, b"%PDF-1.4 witness statement",
                               title="Statement", sensitivity="confidential"))
    admin = make_user(db, "admin")  # a dossier covers at least one incident; court, approved ones
    approve_incident(db, make_incident(db, case, admin), admin)
    return {"investigator": investigator, "lawyer": lawyer, "case": case, "items": items,
            "store": store, "engine": app.extensions["ihl_engine"]}


def audit_entries(db, entity="dossier"):
    rows = db.exec(select(AuditEntry).where(AuditEntry.entity == entity)
                   .order_by(AuditEntry.seq)).all()
    db.commit()
    return rows


def exported(db):
    rows = db.exec(select(CustodyEvent).where(CustodyEvent.action == "exported")
                   .order_by(CustodyEvent.id)).all()
    db.commit()
    return rows


# ---- requesting ----------------------------------------------------------------------------

def test_a_request_is_queued_numbered_per_case_and_audited(db, team):
    lawyer, case = team["lawyer"], team["case"]
    first = services.request_dossier(db, case, audience="court", prepared_by=None, actor=lawyer)
    second = services.request_dossier(db, case, audience="public", prepared_by="  The  legal team ",
                                      actor=lawyer)
    db.commit()
    assert (first.ref, second.ref) == (f"{case.ref}-D001", f"{case.ref}-D002")
    assert first.status == DossierStatus.queued
    assert first.progress == 0
    assert first.prepared_by == "Lena Lawyer"          # the requester's name by default
    assert second.prepared_by == "The legal team"
    assert first.requested_by_id == lawyer.id
    entries = audit_entries(db)
    assert [(e.action, e.entity_id, e.actor, e.case_ref) for e in entries] == [
        ("request", first.ref, lawyer.email, case.ref),
        ("request", second.ref, lawyer.email, case.ref)]
    other = make_case(db, team["investigator"])
    make_incident(db, other, team["investigator"])
    assert services.request_dossier(db, other, audience="internal", prepared_by="",
                                    actor=make_user(db, "admin")).ref == f"{other.ref}-D001"


def test_prepared_by_falls_back_to_the_email_of_a_user_without_a_name(db, team):
    admin = make_user(db, "admin", email="nameless@example.org")
    dossier = services.request_dossier(db, team["case"], audience="internal", prepared_by="",
                                       actor=admin)
    assert dossier.prepared_by == "nameless@example.org"


@pytest.mark.parametrize("role, member, allowed", [
    ("legal", True, True), ("admin", False, True), ("legal", False, False),
    ("investigator", True, False), ("auditor", False, False)])
def test_only_the_case_lawyers_and_admins_generate(db, team, role, member, allowed):
    user = make_user(db, role)
    if member:
        case_services.add_member(db, team["case"], user.email, actor=team["investigator"])
        db.commit()
    request = lambda: services.request_dossier(db, team["case"], audience="internal",  # noqa: E731
                                               prepared_by=None, actor=user)
    if allowed:
        assert request().ref.endswith("-D001")
    else:
        with pytest.raises(Forbidden):
            request()
        db.rollback()
        assert db.exec(select(func.count()).select_from(Dossier)).one() == 0


@pytest.mark.parametrize("audience, prepared_by, field", [
    ("secret", None, "audience"), ("", None, "audience"),
    ("internal", "x" * 201, "prepared_by"), ("internal", "Ana\x00Bel", "prepared_by")])
def test_bad_requests_are_refused_by_field(db, team, audience, prepared_by, field):
    with pytest.raises(InvalidInput) as refused:
        services.request_dossier(db, team["case"], audience=audience, prepared_by=prepared_by,
                                 actor=team["lawyer"])
    assert field in refused.value.fields


# ---- the job ---------------------------------------------------------------------------------

def test_a_built_dossier_is_stored_recorded_and_exports_what_it_shows(app, db, team,
                                                                       quick_renderer):
    lawyer, case, store = team["lawyer"], team["case"], team["store"]
    dossier = make_dossier(db, app, case, lawyer, audience="public")
    assert dossier.status == DossierStatus.done
    assert dossier.progress == 100
    assert dossier.error == ""
    assert dossier.page_count == 1
    assert dossier.started_at <= dossier.finished_at
    with store.open(dossier.sha256) as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == dossier.sha256
    assert len(data) == dossier.size
    manifest = json.loads(dossier.manifest)
    public = [item.ref for item in team["items"][:2]]
    assert [e["ref"] for e in manifest["evidence"]] == public
    assert dossier.case_fingerprint == manifest["case_fingerprint"]

    events = exported(db)
    assert [e.evidence_id for e in events] == [item.id for item in team["items"][:2]]
    for event in events:
        assert dossier.ref in event.purpose
        assert "public" in event.purpose
        assert event.actor == lawyer.email
    # each custody event and the generation are in the audit log, which still verifies
    generated = [e for e in audit_entries(db) if e.action == "generate"]
    assert [(e.entity_id, e.actor) for e in generated] == [(dossier.ref, lawyer.email)]
    assert dossier.sha256 in generated[0].change
    assert "manifest_sha256" in generated[0].change
    custody = [e for e in audit_entries(db, "custody_event") if e.action == "custody_exported"]
    assert len(custody) == 2
    # the chain head kept is the one just before the dossier's own entries
    assert dossier.audit_head_seq == generated[0].seq - 1
    head = db.exec(select(AuditEntry).where(AuditEntry.seq == dossier.audit_head_seq)).one()
    assert dossier.audit_head_hash == head.hash
    assert verify_chain(db)[1] == []


def test_progress_is_recorded_on_stage_changes_and_at_most_twice_a_second(app, db, team,
                                                                           monkeypatch):
    engine, clock, seen = team["engine"], [1000.0], []
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])

    def stored_progress():
        with Session(engine) as session:
            row = session.exec(select(Dossier)).one()
            return row.status, row.stage, row.progress

    def build(session, case, *, progress, out, **kwargs):
        for stage, percent, advance in [("collecting", 5, 0), ("rendering", 10, 0.1),
                                        ("rendering", 20, 0.1), ("rendering", 30, 0.4),
                                        ("rendering", 25, 0.1), ("merging", 90, 0.1)]:
            clock[0] += advance
            progress(stage, percent)
            seen.append(stored_progress())
        return quick_build(session, case, out=out, **kwargs)

    monkeypatch.setattr(services, "build_dossier", build)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert seen == [("running", "collecting", 5),
                    ("running", "rendering", 10),   # a new stage: written at once
                    ("running", "rendering", 10),   # 0.1 s later: not yet
                    ("running", "rendering", 30),   # 0.5 s since the last write
                    ("running", "rendering", 30),   # never backwards
                    ("running", "merging", 90)]
    assert (dossier.status, dossier.stage, dossier.progress) == ("done", "done", 100)


def test_a_renderer_failure_keeps_nothing_and_says_why_in_plain_words(app, db, team,
                                                                      monkeypatch):
    store = team["store"]
    before = stored_files(store)

    def broken(session, case, *, out, progress, **kwargs):
        progress("rendering incidents", 40)
        out.write(b"%PDF-1.4 half a dossier")
        raise RuntimeError("layout failed near 'Statement of witness Ana Bel'")

    monkeypatch.setattr(services, "build_dossier", broken)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert dossier.status == DossierStatus.failed
    assert dossier.sha256 is None
    assert dossier.error.startswith("The dossier could not be built while rendering incidents")
    assert "Ana Bel" not in dossier.error
    assert "Traceback" not in dossier.error
    assert "RuntimeError" not in dossier.error
    assert stored_files(store) == before
    assert list(store.tmp.iterdir()) == []
    assert exported(db) == []
    assert [e.action for e in audit_entries(db)] == ["request", "start", "fail"]
    assert verify_chain(db)[1] == []


def test_a_refusal_from_the_renderer_is_shown_as_it_is(app, db, team, monkeypatch):
    def refusing(session, case, **kwargs):
        raise InvalidInput("The case has a provision that no longer exists.")

    monkeypatch.setattr(services, "build_dossier", refusing)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert (dossier.status, dossier.error) == ("failed",
                                               "The case has a provision that no longer exists.")


def test_bytes_other_than_those_reported_are_not_kept(app, db, team, monkeypatch):
    store = team["store"]
    before = stored_files(store)

    def lying(session, case, *, out, **kwargs):
        built = quick_build(session, case, out=out, **kwargs)
        out.write(b"more")
        return built

    monkeypatch.setattr(services, "build_dossier", lying)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert dossier.status == "failed"
    assert stored_files(store) == before


def test_a_manifest_naming_evidence_of_another_case_fails_the_job(app, db, team, monkeypatch):
    stranger = make_case(db, team["investigator"])
    alien = make_evidence(db, stranger, team["investigator"], team["store"], b"%PDF-1.4 alien")
    before = stored_files(team["store"])

    def confused(session, case, **kwargs):
        built = quick_build(session, case, **kwargs)
        built.manifest["evidence"].append({"ref": alien.ref, "sha256": alien.sha256})
        return built

    monkeypatch.setattr(services, "build_dossier", confused)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert dossier.status == "failed"
    assert exported(db) == []
    assert stored_files(team["store"]) == before


def test_a_commit_that_fails_after_the_file_was_kept_removes_it(app, db, team, quick_renderer,
                                                                monkeypatch):
    store, kept = team["store"], []
    before = stored_files(store)
    original_keep, original_commit = type(store).keep, Session.commit

    def keep(self, incoming):
        kept.append(original_keep(self, incoming))
        return kept[-1]

    def commit(self):
        if kept:
            kept.clear()
            raise OSError("disk went away")
        return original_commit(self)

    monkeypatch.setattr(type(store), "keep", keep)
    monkeypatch.setattr(Session, "commit", commit)
    dossier = make_dossier(db, app, team["case"], team["lawyer"])
    assert dossier.status == "failed"
    assert "could not be written" in dossier.error
    assert stored_files(store) == before


def test_a_job_for_a_dossier_already_done_or_failed_does_nothing(app, db, team, quick_renderer):
    engine, store = team["engine"], team["store"]
    done = make_dossier(db, app, team["case"], team["lawyer"])
    entries = len(audit_entries(db))
    assert services.run_dossier(engine, store, done.ref) is None
    assert services.fail_dossier(engine, done.ref, "too late") is None
    assert fresh(app, done.ref).status == "done"
    assert len(audit_entries(db)) == entries
    assert len(exported(db)) == 3


def test_identical_requests_share_one_stored_file(app, db, team, quick_renderer):
    first = make_dossier(db, app, team["case"], team["lawyer"], prepared_by="Team")
    second = make_dossier(db, app, team["case"], team["lawyer"], prepared_by="Team")
    assert first.ref != second.ref
    assert first.sha256 == second.sha256
    assert team["store"].exists(first.sha256)


def test_dossiers_left_running_by_a_dead_worker_are_declared_interrupted(app, db, team):
    engine = team["engine"]
    stale = make_dossier(db, app, team["case"], team["lawyer"], run=False)
    recent = make_dossier(db, app, team["case"], team["lawyer"], run=False)
    waiting = make_dossier(db, app, team["case"], team["lawyer"], run=False)
    for dossier, started in [(stale, utcnow() - timedelta(hours=2)),
                             (recent, utcnow() - timedelta(minutes=1))]:
        row = db.get(Dossier, dossier.id)
        row.status, row.started_at = DossierStatus.running, started
        db.add(row)
    db.commit()
    assert services.fail_interrupted(engine, timedelta(minutes=30)) == [stale.ref]
    assert fresh(app, stale.ref).status == "failed"
    assert fresh(app, stale.ref).error.startswith("Interrupted")
    assert fresh(app, recent.ref).status == "running"
    assert fresh(app, waiting.ref).status == "queued"
    [entry] = [e for e in audit_entries(db) if e.action == "fail"]
    assert (entry.entity_id, entry.actor) == (stale.ref, "ihl worker")
