"""Verification runs: an auditor asks for one, a background job runs the checks, the result and
its findings are kept with the run; findings are acknowledged with a note.

The request, the result and each acknowledgement are recorded with their audit entries in one
transaction each. The job (`run_verification`) opens its own sessions, so a worker, a command and
tests call it alike; the checks read in a reading transaction (re-hashing gigabytes must not
hold SQLite's write lock).
"""

import logging
import uuid
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, func, select

from ihl_docs.core import progress as progress_records
from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import open_session, open_snapshot
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import Case, Role, RunStatus, User, VerificationFinding, VerificationRun
from ihl_docs.core.progress import Heartbeat, Observer, ProgressRecorder
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.verification.checks import Report, verify

log = logging.getLogger(__name__)

VERIFIERS = {Role.auditor, Role.admin}
NOTE_MAX = 2000
OPEN = (RunStatus.queued, RunStatus.running)
INTERRUPTED = ("Interrupted: the worker running this verification stopped before it finished. "
               "Nothing was concluded; start the verification again.")
NOT_QUEUED = ("The verification could not be queued: the job queue is not reachable. Nothing "
              "was checked; try again later, or tell an administrator.")
WORKER_ACTOR = "ihl worker"


def can_verify(user: User) -> bool:
    """Auditors and administrators run verifications and acknowledge findings."""
    return user.role in VERIFIERS


def request_run(session: Session, *, actor: User | str, case: Case | None = None
                ) -> VerificationRun:
    """Record a queued verification of everything, or of `case`; `actor` is the requesting
    user, or the name of a command run on the server."""
    if isinstance(actor, User):
        if not can_verify(actor):
            raise Forbidden("Only auditors and administrators run verifications.")
        actor = actor.email
    run = VerificationRun(ref=f"new-{uuid.uuid4().hex}", case_id=case.id if case else None,
                          requested_by=actor)
    session.add(run)
    session.flush()
    run.ref = f"VER-{run.id:05d}"
    session.add(run)
    session.flush()
    audit.record(session, actor=actor, action="request", entity="verification_run",
                 entity_id=run.ref, case_ref=case.ref if case else None,
                 after=audit.snapshot(run))
    return run


# --- reading ---------------------------------------------------------------------------------

def run_by_ref(session: Session, ref: str) -> VerificationRun:
    run = session.exec(select(VerificationRun).where(VerificationRun.ref == ref)).first()
    if run is None:
        raise NotFound(f"No verification {ref}.")
    return run


def list_runs(session: Session, *, offset: int = 0, limit: int = 50
              ) -> tuple[list[VerificationRun], int]:
    """Every run, newest first; (one page, total)."""
    total = session.exec(select(func.count()).select_from(VerificationRun)).one()
    rows = session.exec(select(VerificationRun).order_by(VerificationRun.id.desc())
                        .offset(offset).limit(limit)).all()
    return list(rows), total


def findings_of(session: Session, run: VerificationRun) -> list[VerificationFinding]:
    return list(session.exec(select(VerificationFinding)
                             .where(VerificationFinding.run_id == run.id)
                             .order_by(VerificationFinding.number)))


def scope_of(session: Session, run: VerificationRun) -> Case | None:
    return session.get(Case, run.case_id) if run.case_id else None


# --- acknowledging ---------------------------------------------------------------------------

def acknowledge(session: Session, run: VerificationRun, number: int, note: str, *,
                actor: User) -> VerificationFinding:
    """Record that an auditor has seen a finding, and what they make of it. The finding stays:
    an acknowledgement explains a problem, it does not make it go away."""
    if not can_verify(actor):
        raise Forbidden("Only auditors and administrators acknowledge findings.")
    finding = session.exec(select(VerificationFinding).where(
        VerificationFinding.run_id == run.id, VerificationFinding.number == number)).first()
    if finding is None:
        raise NotFound(f"No finding {number} in verification {run.ref}.")
    text = (note or "").strip()
    if not text:
        raise InvalidInput("Say what you make of the finding.",
                           {"note": "Write a note: what was found out, what was done."})
    if len(text) > NOTE_MAX:
        message = f"Give at most {NOTE_MAX} characters."
        raise InvalidInput(f"The note is too long. {message}", {"note": message})
    if finding.acknowledged_at is not None:
        raise Conflict(f"Finding {number} of {run.ref} was already acknowledged by "
                       f"{finding.acknowledged_by}.", {"note": "already acknowledged"})
    finding.acknowledged_at, finding.acknowledged_by = utcnow(), actor.email
    finding.acknowledgement = text
    session.add(finding)
    session.flush()
    case = scope_of(session, run)
    audit.record(session, actor=actor.email, action="acknowledge", entity="verification_finding",
                 entity_id=f"{run.ref}#{number}", case_ref=case.ref if case else None,
                 before={"acknowledged_at": None},
                 after={"subject": finding.subject, "message": finding.message,
                        "acknowledged_at": finding.acknowledged_at,
                        "acknowledged_by": finding.acknowledged_by, "note": text})
    return finding


# --- the job ---------------------------------------------------------------------------------

def run_queued(app, ref: str) -> VerificationRun | None:
    """The queued job: run the verification with the app's database, store and checkpoint key."""
    from ihl_docs.core.audit.replay import projections
    from ihl_docs.verification.checks import instance_public_key

    return run_verification(app.extensions["ihl_engine"], app.extensions["ihl_store"], ref,
                            public_key=instance_public_key(app.config["SIGNING_KEY"]),
                            kinds=projections(app))


def run_verification(engine: Engine, store: EvidenceStore, ref: str, *,
                     public_key: str | None = None, observer: Observer | None = None,
                     kinds: list | None = None) -> VerificationRun | None:
    """The job body: run the checks of a queued run and record what they found, or why not.
    Returns the run as it ended, or None if it was not queued (then nothing is done)."""
    if not progress_records.start(engine, VerificationRun, ref,
                                  lambda session, run: run.requested_by):
        return None
    progress = ProgressRecorder(engine, VerificationRun, ref, observer)
    try:
        with Heartbeat(engine, VerificationRun, ref), open_snapshot(engine) as session:
            run = run_by_ref(session, ref)
            report = verify(session, store, case=scope_of(session, run), public_key=public_key,
                            progress=progress, kinds=kinds)
        return _finish(engine, ref, report)
    except Exception as exc:  # the run says it failed, in words; the log has the details
        log.exception("Verification %s failed while %s", ref, progress.stage or "starting")
        if isinstance(exc, DomainError):
            message = exc.message
        else:
            where = f" while {progress.stage}" if progress.stage else ""
            message = (f"The verification could not be completed{where}: an internal error "
                       f"occurred. Start it again, and tell an administrator if it fails again.")
        return fail_run(engine, ref, message)


def _finish(engine: Engine, ref: str, report: Report) -> VerificationRun | None:
    """In one transaction: the counts, the findings, the run done, its audit entry."""
    with open_session(engine, write=True) as session:
        run = run_by_ref(session, ref)
        if run.status != RunStatus.running:  # declared interrupted meanwhile
            session.rollback()
            return None
        run.sqlmodel_update(dict(
            status=RunStatus.done, stage="done", progress=100, files_checked=report.files,
            bytes_checked=report.bytes, dossiers_checked=report.dossiers,
            custody_checked=report.custody_events, records_checked=report.records,
            audit_checked=report.audit_entries,
            checkpoints_checked=report.checkpoints, problem_count=len(report.findings),
            audit_head_seq=report.head[0] if report.head else 0,
            audit_head_hash=report.head[1] if report.head else None, finished_at=utcnow()))
        session.add(run)
        for number, finding in enumerate(report.findings, start=1):
            session.add(VerificationFinding(run_id=run.id, number=number, kind=finding.kind,
                                            subject=finding.subject[:120],
                                            message=finding.message))
        session.flush()
        case = scope_of(session, run)
        audit.record(session, actor=run.requested_by, action="verify",
                     entity="verification_run", entity_id=run.ref,
                     case_ref=case.ref if case else None,
                     before={"status": RunStatus.running.value},
                     after={**audit.snapshot(run),
                            "findings": [f.message for f in report.findings]})
        session.commit()
        return run


def fail_run(engine: Engine, ref: str, message: str) -> VerificationRun | None:
    """Record that a queued or running verification failed, and why; None if it was neither."""
    try:
        with open_session(engine, write=True) as session:
            run = run_by_ref(session, ref)
            if run.status not in OPEN:
                return None
            _mark_failed(session, run, message, run.requested_by)
            session.commit()
            return run
    except SQLAlchemyError:  # the worker's next start will declare it interrupted
        log.exception("Could not record the failure of verification %s", ref)
        return None


def _mark_failed(session: Session, run: VerificationRun, message: str, actor: str) -> None:
    case = scope_of(session, run)
    progress_records.mark_failed(session, run, message, actor=actor, entity="verification_run",
                                 case_ref=case.ref if case else None)


def fail_interrupted(engine: Engine, older_than: timedelta) -> list[str]:
    """Declare failed the running verifications silent for longer than `older_than` (no
    heartbeat: their worker died)."""
    with open_session(engine, write=True) as session:
        stale = progress_records.left_running(session, VerificationRun, older_than)
        for run in stale:
            _mark_failed(session, run, INTERRUPTED, WORKER_ACTOR)
        session.commit()
        return [r.ref for r in stale]


def waiting_since(engine: Engine, older_than: timedelta) -> list[str]:
    """The refs of runs still queued `older_than` after they were requested."""
    return progress_records.waiting_since(engine, VerificationRun, older_than)
