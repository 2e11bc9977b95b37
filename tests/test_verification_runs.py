"""Verification runs: the background job, what it checks and names, its record and audit entries,
acknowledging findings, failures and interrupted runs."""

import json
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.core.audit import replay
from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.replay import projections
from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput
from ihl_docs.core.jobs import recover
from ihl_docs.core.models import (
    AuditEntry,
    CustodyAction,
    CustodyEventCreate,
    RunStatus,
    VerificationFinding,
    VerificationRun,
)
from ihl_docs.evidence import services as evidence_services
from ihl_docs.verification import checks, runs
from tests.builders import jpeg_with_exif, make_case, make_evidence, make_incident, make_user
from tests.dossier_support import make_dossier
from tests.tampering import TAMPERING, alter_one_byte, sql


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def auditor(db):
    return make_user(db, "auditor")


@pytest.fixture
def two_cases(db, store):
    """Case A: two documents, a photo with its thumbnail, a transfer. Case B: one document."""
    investigator = make_user(db, "investigator")
    a, b = make_case(db, investigator, ref="VR-2020-001"), make_case(db, investigator,
                                                                      ref="VR-2020-002")
    docs = [make_evidence(db, a, investigator, store, b"%PDF-1.4 " + os.urandom(2048),
                          title=f"Report {n}") for n in range(2)]
    photo = make_evidence(db, a, investigator, store, jpeg_with_exif(), kind="photo",
                          title="Crater", original_filename="IMG_0001.JPG")
    evidence_services.record_custody(db, docs[0], CustodyEventCreate(
        action=CustodyAction.transferred, occurred_at=utcnow(), custodian_from="Field team",
        custodian_to="Analysis desk"), actor=investigator, store=store)
    db.commit()
    other = make_evidence(db, b, investigator, store, b"%PDF-1.4 other " + os.urandom(512))
    return {"a": a, "b": b, "docs": docs, "photo": photo, "other": other,
            "investigator": investigator}


def start(db, app, actor, case=None, **kwargs):
    """A run requested and committed, then run as the worker would; the run as it ended."""
    run = runs.request_run(db, actor=actor, case=case)
    db.commit()
    runs.run_verification(app.extensions["ihl_engine"], app.extensions["ihl_store"], run.ref,
                          kinds=projections(app), witnesses=Witnesses.from_config(app.config),
                          **kwargs)
    return stored(app, run.ref)


def stored(app, ref):
    with open_session(app.extensions["ihl_engine"], write=False) as session:
        run = session.exec(select(VerificationRun).where(VerificationRun.ref == ref)).one()
        findings = session.exec(select(VerificationFinding)
                                .where(VerificationFinding.run_id == run.id)
                                .order_by(VerificationFinding.number)).all()
        session.expunge_all()
        return run, list(findings)


def entries(db, entity, entity_id=None):
    query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.seq)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    result = list(db.exec(query))
    db.commit()
    return result


def test_a_clean_run_records_what_it_checked_who_asked_and_when(app, db, two_cases, auditor):
    before = db.exec(select(sa.func.max(AuditEntry.seq))).one()
    db.commit()
    seen = []
    run, findings = start(db, app, auditor, observer=lambda stage, pct: seen.append((stage, pct)))
    assert run.status == RunStatus.done
    assert run.problem_count == 0
    assert findings == []
    assert run.ref == f"VER-{run.id:05d}"
    assert run.requested_by == auditor.email
    # 4 originals and a thumbnail; custody: one "received" per item and the transfer
    assert run.files_checked == 5
    assert run.dossiers_checked == 0
    assert run.custody_checked == 5
    assert run.bytes_checked == sum(os.path.getsize(p) for p in _stored_paths(app))
    # every record of both cases, the accounts and the catalogue held against the log
    assert run.records_checked > run.custody_checked
    # the request's and the start's own entries are in the chain it checked
    assert run.audit_checked == before + 2 == run.audit_head_seq
    assert run.started_at <= run.finished_at
    request, started, verified = entries(db, "verification_run", run.ref)
    assert (request.action, request.actor) == ("request", auditor.email)
    assert json.loads(started.change)["after"]["status"] == "running"
    assert verified.action == "verify"
    assert json.loads(verified.change)["after"]["files_checked"] == 5
    stages = [stage for stage, _ in seen]
    assert stages.index("re-hashing stored files") < stages.index(
        "holding every record against the audit log") < stages.index(
        "recomputing the audit chain") < stages.index("done")
    percents = [pct for _, pct in seen]
    assert percents == sorted(percents)
    assert percents[-1] == 100


def _stored_paths(app):
    store = app.extensions["ihl_store"]
    return [p for p in store.root.rglob("*") if p.is_file() and p.parent != store.tmp]


def test_an_altered_and_a_deleted_file_are_named_by_their_evidence_ref(app, db, two_cases,
                                                                          auditor, store):
    altered, deleted = two_cases["docs"]
    alter_one_byte(store.path_for(altered.sha256), at=5)
    store.path_for(deleted.sha256).unlink()
    run, findings = start(db, app, auditor)
    assert run.status == RunStatus.done
    assert run.problem_count == 2
    assert [(f.kind, f.subject) for f in findings] == [("evidence", altered.ref),
                                                       ("evidence", deleted.ref)]
    assert "file altered" in findings[0].message
    assert "file missing" in findings[1].message
    # what `ihl verify` and the API say is the same
    with open_session(app.extensions["ihl_engine"], write=False) as session:
        assert checks.verify_all(session, store, kinds=projections(app),
                                 witnesses=Witnesses.from_config(app.config))["problems"] == [
            f.message for f in findings]


def test_an_altered_dossier_is_named_by_its_ref(app, db, two_cases, auditor, store,
                                                 quick_renderer):
    lawyer = make_user(db, "legal")
    from ihl_docs.cases import services as case_services

    case_services.add_member(db, two_cases["a"], lawyer.email, actor=two_cases["investigator"])
    db.commit()
    make_incident(db, two_cases["a"], two_cases["investigator"])  # a dossier covers one at least
    dossier = make_dossier(db, app, two_cases["a"], lawyer)
    clean, _ = start(db, app, auditor)
    assert clean.dossiers_checked == 1
    assert clean.problem_count == 0
    alter_one_byte(store.path_for(dossier.sha256), at=20)
    run, findings = start(db, app, auditor)
    assert [(f.kind, f.subject) for f in findings] == [("dossier", dossier.ref)]


@pytest.mark.parametrize("case", list(TAMPERING))
def test_audit_tampering_is_named_by_seq_in_the_report(case, app, db, signed_log, auditor):
    tamper, expected = TAMPERING[case]
    tamper(db, signed_log)
    run, findings = start(db, app, auditor)
    assert run.status == RunStatus.done
    assert run.problem_count >= 1
    messages = [f.message for f in findings]
    assert any(expected(signed_log) in m for m in messages), messages
    for finding in findings:
        # a deleted entry also leaves the record it created without an entry
        assert finding.kind in ("audit", "checkpoint", "record")
        if finding.kind != "record":
            assert finding.subject.startswith("seq ")
            assert finding.subject[4:] in finding.message


def custody_row(db, evidence):
    row = db.exec(sa.text("SELECT id FROM custody_event WHERE evidence_id = :e ORDER BY id DESC")
                  .bindparams(e=evidence.id)).first()
    db.commit()
    return row[0]


def test_custody_rows_changed_added_or_removed_in_the_database_are_named(app, db, two_cases,
                                                                           auditor):
    edited, removed, extra = two_cases["docs"][0], two_cases["docs"][1], two_cases["photo"]
    sql(db, "UPDATE custody_event SET custodian_to = 'Someone else' WHERE id = :i",
        i=custody_row(db, edited))
    gone = custody_row(db, removed)
    sql(db, "DELETE FROM custody_event WHERE id = :i", i=gone)
    sql(db, "INSERT INTO custody_event (evidence_id, action, occurred_at, custodian_from, "
            "custodian_to, place, purpose, notes, actor, recorded_at) VALUES (:e, 'released', "
            ":t, '', 'Unknown', '', '', '', 'nobody', :t)", e=extra.id, t=utcnow())
    run, findings = start(db, app, auditor)
    by_subject = {f.subject: f.message for f in findings}
    assert all(f.kind == "custody" for f in findings), by_subject
    assert len(findings) == 3, by_subject
    assert "custodian_to differs from audit seq" in by_subject[edited.ref]
    assert "is no longer in the database" in by_subject[removed.ref]
    assert "has no audit entry" in by_subject[extra.ref]
    # the chain itself is intact: only the custody check sees these
    assert run.audit_checked == run.audit_head_seq


def test_a_case_run_checks_that_case_files_and_the_whole_chain(app, db, two_cases, auditor,
                                                               store):
    alter_one_byte(store.path_for(two_cases["other"].sha256))  # in case B
    run, findings = start(db, app, auditor, case=two_cases["a"])
    assert run.case_id == two_cases["a"].id
    assert run.problem_count == 0
    assert run.files_checked == 4
    assert run.custody_checked == 4
    assert run.audit_checked == run.audit_head_seq  # every entry, not only the case's
    request = entries(db, "verification_run", run.ref)[0]
    assert request.case_ref == two_cases["a"].ref
    run, findings = start(db, app, auditor, case=two_cases["b"])
    assert [f.subject for f in findings] == [two_cases["other"].ref]


def test_findings_are_acknowledged_with_a_note_that_is_audited(app, db, two_cases, auditor,
                                                              store):
    alter_one_byte(store.path_for(two_cases["docs"][0].sha256))
    run, _ = start(db, app, auditor)
    run = db.get(VerificationRun, run.id)
    with pytest.raises(InvalidInput) as empty:
        runs.acknowledge(db, run, 1, "   ", actor=auditor)
    assert "note" in empty.value.fields
    with pytest.raises(InvalidInput):
        runs.acknowledge(db, run, 1, "x" * (runs.NOTE_MAX + 1), actor=auditor)
    with pytest.raises(Forbidden):
        runs.acknowledge(db, run, 1, "Seen.", actor=two_cases["investigator"])
    db.rollback()
    note = "Restored from the offline copy made on intake; the sealed USB stick holds the original."
    finding = runs.acknowledge(db, run, 1, note, actor=auditor)
    db.commit()
    assert finding.acknowledged_by == auditor.email
    assert finding.acknowledgement == note
    entry = entries(db, "verification_finding", f"{run.ref}#1")[-1]
    change = json.loads(entry.change)
    assert entry.action == "acknowledge"
    assert change["after"]["note"] == note
    assert change["after"]["subject"] == two_cases["docs"][0].ref
    with pytest.raises(Conflict):
        runs.acknowledge(db, db.get(VerificationRun, run.id), 1, "Again.", actor=auditor)
    db.rollback()
    # the finding stays: the problem is still reported
    assert stored(app, run.ref)[0].problem_count == 1


def test_only_auditors_and_administrators_start_runs(db, two_cases):
    for role in ("investigator", "legal"):
        with pytest.raises(Forbidden):
            runs.request_run(db, actor=make_user(db, role))
        db.rollback()
    assert runs.request_run(db, actor=make_user(db, "admin")).status == RunStatus.queued


def test_a_run_that_breaks_is_marked_failed_in_words(app, db, two_cases, auditor, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(runs, "verify", broken)
    run, findings = start(db, app, auditor)
    assert run.status == RunStatus.failed
    assert findings == []
    assert "could not be completed" in run.error
    assert "secret" not in run.error
    assert [e.action for e in entries(db, "verification_run", run.ref)] == ["request", "start", "fail"]


def test_a_run_already_taken_is_not_run_twice(app, db, two_cases, auditor):
    run, _ = start(db, app, auditor)
    again = runs.run_verification(app.extensions["ihl_engine"], app.extensions["ihl_store"],
                                  run.ref)
    assert again is None
    assert [e.action for e in entries(db, "verification_run", run.ref)] == ["request", "start",
                                                                            "verify"]


def test_interrupted_runs_are_failed_and_waiting_ones_queued_again(app, db, auditor,
                                                                   monkeypatch):
    stale = runs.request_run(db, actor=auditor)
    waiting = runs.request_run(db, actor=auditor)
    db.commit()
    long_ago = utcnow() - timedelta(hours=3)
    sql(db, "UPDATE verification_run SET status = 'running', started_at = :t WHERE ref = :r",
        t=long_ago, r=stale.ref)
    sql(db, "UPDATE verification_run SET created_at = :t WHERE ref = :r", t=long_ago,
        r=waiting.ref)
    queued = []
    monkeypatch.setitem(app.extensions["ihl_tasks"], "verify", queued.append)
    failed, requeued = recover(app, timedelta(hours=1))
    assert stale.ref in failed
    assert requeued == [waiting.ref]
    assert queued == [waiting.ref]
    run, _ = stored(app, stale.ref)
    assert run.status == RunStatus.failed
    assert run.error == runs.INTERRUPTED


def test_custody_recorded_while_a_run_reads_is_not_taken_for_a_deleted_event(app, db, two_cases,
                                                                              auditor, store,
                                                                              monkeypatch):
    """The run reads the custody entries of the log, then the custody events: a custody event
    committed between the two must be in neither (one snapshot), not in the table only (a false
    "has no audit entry")."""
    item, investigator = two_cases["docs"][1], two_cases["investigator"]
    original = replay.recorded_states
    meanwhile = []

    def record_meanwhile(session, entity, case_ref=None):
        states = original(session, entity, case_ref)
        if entity == "custody_event" and not meanwhile:
            with open_session(app.extensions["ihl_engine"]) as other:
                evidence_services.record_custody(
                    other, other.get(type(item), item.id), CustodyEventCreate(
                        action=CustodyAction.sealed, occurred_at=utcnow(),
                        custodian_to="Evidence room"),
                    actor=other.get(type(investigator), investigator.id), store=store)
                other.commit()
            meanwhile.append(True)
        return states

    monkeypatch.setattr(replay, "recorded_states", record_meanwhile)
    run, findings = start(db, app, auditor)
    assert meanwhile
    assert findings == [], [f.message for f in findings]
    assert run.custody_checked == 5  # as the snapshot stood: the new event came after it


def test_verification_reads_one_snapshot(app):
    from ihl_docs.core.db import open_snapshot

    with open_snapshot(app.extensions["ihl_engine"]) as session:
        if session.get_bind().dialect.name == "postgresql":
            level = session.exec(sa.text("SHOW transaction_isolation")).one()[0]
            assert level == "repeatable read"
        else:
            assert session.exec(sa.text("SELECT 1")).one()[0] == 1
