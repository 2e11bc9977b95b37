"""Running jobs say they are alive; one whose worker died (no heartbeat) is declared failed by
any worker — at its start and every minute — and never stays running for ever."""

import time
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.core import progress
from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.jobs import fail_silent
from ihl_docs.core.models import Case, Dossier, DossierStatus, RunStatus, User, VerificationRun
from ihl_docs.dossiers import services
from ihl_docs.verification import runs
from tests.builders import lawyer_and_case, make_user
from tests.dossier_support import make_dossier, quick_build


def stored(app, model, ref):
    with open_session(app.extensions["ihl_engine"], write=False) as session:
        return session.exec(select(model).where(model.ref == ref)).one()


def sql(app, statement, **params):
    with open_session(app.extensions["ihl_engine"]) as session:
        session.exec(sa.text(statement).bindparams(**params))
        session.commit()


def mine(db, lawyer, case):
    """The team's lawyer and case, in the test's session."""
    return db.get(User, lawyer.id), db.get(Case, case.id)


def test_a_long_step_keeps_beating(app, db, monkeypatch):
    lawyer, case = mine(db, *lawyer_and_case(app))
    beats = []

    def slow_build(session, case, *, progress, out, **kwargs):
        progress("rendering", 10)
        first = stored(app, Dossier, f"{case.ref}-D001").heartbeat_at
        time.sleep(0.5)  # one long section: no progress, but the heartbeat goes on
        beats.append((first, stored(app, Dossier, f"{case.ref}-D001").heartbeat_at))
        return quick_build(session, case, out=out, **kwargs)

    monkeypatch.setattr(services, "build_dossier", slow_build)
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.1)
    dossier = make_dossier(db, app, case, lawyer)
    assert dossier.status == DossierStatus.done
    [(before, after)] = beats
    assert before is not None
    assert after > before + timedelta(seconds=0.2)


def test_only_silent_jobs_are_declared_failed(app, db):
    lawyer, case = mine(db, *lawyer_and_case(app))
    silent, beating = (make_dossier(db, app, case, lawyer, run=False) for _ in range(2))
    auditor = make_user(db, "auditor")
    run = runs.request_run(db, actor=auditor)
    db.commit()
    long_ago, just_now = utcnow() - timedelta(hours=2), utcnow() - timedelta(seconds=20)
    for ref, beat in ((silent.ref, long_ago), (beating.ref, just_now)):
        # both started two hours ago; one still beats: a long build, not a dead one
        sql(app, "UPDATE dossier SET status = 'running', started_at = :s, heartbeat_at = :h "
                 "WHERE ref = :r", s=long_ago, h=beat, r=ref)
    sql(app, "UPDATE verification_run SET status = 'running', started_at = :s, "
             "heartbeat_at = NULL WHERE ref = :r", s=long_ago, r=run.ref)
    failed = fail_silent(app, timedelta(minutes=5))
    assert failed == [silent.ref, run.ref]
    assert stored(app, Dossier, silent.ref).error == services.INTERRUPTED
    assert stored(app, Dossier, beating.ref).status == DossierStatus.running
    assert stored(app, VerificationRun, run.ref).status == RunStatus.failed


def test_every_worker_looks_for_silent_jobs_every_minute(app):
    from datetime import datetime

    queue = app.extensions["ihl_queue"]
    for minute in (0, 1, 37):  # due at every minute of the hour
        due = {task.name for task in queue.read_periodic(datetime(2026, 1, 1, 12, minute))}
        assert "fail_silent_jobs" in due


def test_the_silence_allowed_is_a_setting(tmp_path):
    from ihl_docs.core.config import load_config

    assert load_config(tmp_path, environ={"IHL_SECRET_KEY": "x"})["JOB_SILENT_MINUTES"] == 5
    assert load_config(tmp_path, environ={"IHL_SECRET_KEY": "x",
                                          "IHL_JOB_SILENT_MINUTES": "2"})["JOB_SILENT_MINUTES"] == 2
