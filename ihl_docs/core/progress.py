"""Background jobs' records (dossier builds, verification runs): their progress, and the steps
of their life cycle that every kind shares (queued → running, left running, still waiting)."""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow

log = logging.getLogger(__name__)

# Progress is written at most this often (seconds), and whenever the stage changes.
PROGRESS_INTERVAL = 0.5
# A running job's record is touched this often (seconds), even when its progress stands still
# (a long section being rendered); one silent for much longer has lost its worker.
HEARTBEAT_SECONDS = 15.0

Observer = Callable[[str, int], None]


class ProgressRecorder:
    """A job's progress callback: keeps the stage and percentage on the job's record (a table
    with `ref`, `status`, `stage` and `progress`), each time in a short transaction of its own,
    at most every PROGRESS_INTERVAL seconds unless the stage changes. The percentage never goes
    back, and only a running record is written."""

    def __init__(self, engine: Engine, model, ref: str, observer: Observer | None = None):
        self.engine, self.model, self.ref, self.observer = engine, model, ref, observer
        self.stage, self.percent = "", 0
        self._written: tuple[str, float] | None = None

    def __call__(self, stage: str, percent: int) -> None:
        self.stage = str(stage)[:200]
        self.percent = max(self.percent, min(100, max(0, int(percent))))
        if self.observer:
            self.observer(self.stage, self.percent)
        now = time.monotonic()
        if (self._written is None or self._written[0] != self.stage
                or now - self._written[1] >= PROGRESS_INTERVAL):
            self._write()
            self._written = (self.stage, now)

    def _write(self) -> None:
        _touch(self.engine, self.model, self.ref, stage=self.stage, progress=self.percent)


def _touch(engine: Engine, model, ref: str, **values) -> None:
    """Write `values` and the heartbeat on a running record, in a transaction of its own."""
    try:
        with open_session(engine, write=True) as session:
            session.exec(sa.update(model).where(model.ref == ref, model.status == "running")
                         .values(heartbeat_at=utcnow(), **values))
            session.commit()
    except SQLAlchemyError:  # progress is shown, not relied on: the job goes on
        log.warning("Could not record the progress of %s", ref, exc_info=True)


class Heartbeat:
    """While the `with` block runs, touch the record's heartbeat every HEARTBEAT_SECONDS from a
    thread of its own, so a job busy in one long step is not taken for a dead one."""

    def __init__(self, engine: Engine, model, ref: str, interval: float | None = None):
        self.engine, self.model, self.ref = engine, model, ref
        self.interval = HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {ref}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            _touch(self.engine, self.model, self.ref)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --- the records' life cycle, shared by every kind of job ---------------------------------------

def start(engine: Engine, model, ref: str,
          actor_of: Callable[[Session, object], str] = lambda session, record: "ihl worker"
          ) -> bool:
    """Move the record from queued to running, with its audit entry (by `actor_of(session,
    record)`: whom the job runs for); False if it was not queued (taken already, or done, or
    failed), so a job delivered twice runs once."""
    from ihl_docs.core.audit import log as audit
    from ihl_docs.core.models import Case

    with open_session(engine, write=True) as session:
        now = utcnow()
        result = session.exec(sa.update(model)
                              .where(model.ref == ref, model.status == "queued")
                              .values(status="running", started_at=now, heartbeat_at=now,
                                      stage="starting", progress=0))
        if result.rowcount != 1:
            session.rollback()
            return False
        record = session.exec(select(model).where(model.ref == ref)).one()
        case_ref = session.exec(select(Case.ref).where(Case.id == record.case_id)).first()
        audit.record(session, actor=actor_of(session, record), action="start", entity=model.__tablename__,
                     entity_id=ref, case_ref=case_ref, before={"status": "queued"},
                     after={"status": "running", "started_at": now})
        session.commit()
        return True


def left_running(session: Session, model, silent_for: timedelta) -> list:
    """The running records whose job has not said it is alive for `silent_for` (their worker
    died), oldest first."""
    cutoff = utcnow() - silent_for
    last_sign = sa.func.coalesce(model.heartbeat_at, model.started_at)
    return list(session.exec(select(model).where(model.status == "running", last_sign < cutoff)
                             .order_by(model.id)))


def waiting_since(engine: Engine, model, older_than: timedelta) -> list[str]:
    """The refs of records still queued `older_than` after they were requested."""
    cutoff = utcnow() - older_than
    with open_session(engine, write=False) as session:
        return list(session.exec(select(model.ref).where(
            model.status == "queued", model.created_at < cutoff).order_by(model.id)))


def mark_failed(session: Session, record, message: str, *, actor: str, entity: str,
                case_ref: str | None) -> None:
    """Set a queued or running record to failed with its reason, and write its audit entry, in
    the caller's transaction."""
    from ihl_docs.core.audit import log as audit

    before = {"status": str(record.status), "stage": record.stage, "progress": record.progress}
    record.status, record.error, record.finished_at = "failed", message, utcnow()
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action="fail", entity=entity, entity_id=record.ref,
                 case_ref=case_ref, before=before,
                 after={"status": "failed", "error": message, "finished_at": record.finished_at})
