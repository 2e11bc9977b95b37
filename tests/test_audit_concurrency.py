"""Writers in several processes at once: the chain stays gapless and verifiable."""

import multiprocessing
from datetime import UTC

import pytest
from sqlmodel import select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.models import AuditEntry, Incident
from tests.builders import make_case, make_user

PROCESSES = 4
APPENDS = 25


def _append_many(url: str, worker: int, start: multiprocessing.Event) -> None:
    engine = make_engine(url)
    start.wait(10)
    for i in range(APPENDS):
        with open_session(engine, write=True) as session:
            audit.record(session, actor=f"worker{worker}@example.org", action="test",
                         entity="probe", entity_id=f"{worker}-{i}")
            session.commit()
    engine.dispose()


def _file_incidents(url: str, worker: int, case_id: int, user_id: int,
                    start: multiprocessing.Event) -> None:
    from datetime import datetime

    from ihl_docs.core.models import Case, IncidentCreate, User
    from ihl_docs.incidents import services as incidents

    engine = make_engine(url)
    start.wait(10)
    for i in range(5):
        with open_session(engine, write=True) as session:
            case, user = session.get(Case, case_id), session.get(User, user_id)
            data = IncidentCreate(title=f"w{worker} #{i}", incident_type="shelling",
                                  occurred_from=datetime(2021, 1, 1, tzinfo=UTC))
            incidents.create_incident(session, case, data, actor=user)
            session.commit()
    engine.dispose()


def _run_all(target, args_for) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=target, args=(*args_for(w), start)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES


@pytest.mark.slow
def test_concurrent_appends_leave_a_gapless_verifiable_chain(app, db, database_url):
    db.commit()
    _run_all(_append_many, lambda w: (database_url, w))
    db.expire_all()
    seqs = db.exec(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, PROCESSES * APPENDS + 1))
    assert audit.verify_chain(db) == (PROCESSES * APPENDS, [])


@pytest.mark.slow
def test_concurrent_incident_filing_gives_distinct_refs(app, db, database_url):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    db.commit()
    _run_all(_file_incidents, lambda w: (database_url, w, case.id, user.id))
    db.expire_all()
    refs = db.exec(select(Incident.ref).where(Incident.case_id == case.id)).all()
    assert sorted(refs) == [f"{case.ref}-I{n:03d}" for n in range(1, PROCESSES * 5 + 1)]
    count, problems = audit.verify_chain(db)
    assert problems == []
    assert count == len(db.exec(select(AuditEntry.seq)).all())
