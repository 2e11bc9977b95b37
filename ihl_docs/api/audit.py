"""The audit log through the API: entries in seq order, after a given seq (auditors, admins)."""

from urllib.parse import urlencode

from flask import current_app, request
from sqlmodel import select

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.pages import located_at
from ihl_docs.api.schemas import VerificationAccepted
from ihl_docs.core.access import READ_ALL_ROLES
from ihl_docs.core.audit import history as log
from ihl_docs.core.db import get_session, open_snapshot
from ihl_docs.core.errors import Forbidden, InvalidInput
from ihl_docs.core.file_modes import mode_warnings
from ihl_docs.core.jobs import enqueue
from ihl_docs.core.models import Case
from ihl_docs.verification import VERIFY_JOB, instance_public_key, report, runs, verify_all

# The flat document's fields in the order the export writes them.
FIELD_ORDER = ("seq", "prev_hash", "hash", "occurred_at", "actor", "action", "entity",
               "entity_id", "case_ref", "change")


def list_audit_entries():
    """Up to `limit` entries with seq greater than `after`; `next` continues after the last."""
    if api_user().role not in READ_ALL_ROLES:
        raise Forbidden("Only auditors and administrators read the audit log.")
    params = inputs.query()
    documents, total = log.entries_after(get_session(), params.after, params.limit)
    items = [{**{name: doc[name] for name in FIELD_ORDER if name in doc}, **doc}
             for doc in documents]
    next_url = None
    if items and len(items) < total:
        args = {**request.args.to_dict(), "after": str(items[-1]["seq"])}
        next_url = f"{request.base_url}?{urlencode(args)}"
    return {"items": items, "total": total, "next": next_url}


def run_verification():
    """What `ihl verify` checks: every stored file re-hashed, the chain and its checkpoints."""
    if api_user().role not in READ_ALL_ROLES:
        raise Forbidden("Only auditors and administrators run verification.")
    # A reading transaction: re-hashing every file must not hold the database's write lock.
    with open_snapshot(current_app.extensions["ihl_engine"]) as session:
        report = verify_all(session, current_app.extensions["ihl_store"],
                            public_key=instance_public_key(current_app.config["SIGNING_KEY"]))
    return {**report, "warnings": mode_warnings(current_app)}


def _verifier():
    user = api_user()
    if not runs.can_verify(user):
        raise Forbidden("Only auditors and administrators run verification.")
    return user


def start_verification():
    """Record a verification and queue it; follow it at /verifications/{id}."""
    user, session = _verifier(), get_session()
    body = inputs.body()
    case = None
    if body.case_ref is not None:
        case = session.exec(select(Case).where(Case.ref == body.case_ref)).first()
        if case is None:
            message = f"No case {body.case_ref}."
            raise InvalidInput(message, {"case_ref": message})
    run = runs.request_run(session, actor=user, case=case)
    session.commit()  # the worker (or, immediate, this thread) opens its own session
    enqueue(VERIFY_JOB, run.ref)
    session.refresh(run)
    located_at("api.show_verification", id=run.ref)

    return VerificationAccepted(id=run.ref, status=run.status, progress=run.progress)


def show_verification(id: str):  # noqa: A002 - the path names it so
    """A verification's status and progress; once done, what it checked and its findings."""
    _verifier()
    session = get_session()
    run = runs.run_by_ref(session, inputs.checked_ref(id, "verification"))
    data = report.report_data(session, run)
    fields = {name: getattr(run, name) for name in (
        "status", "progress", "stage", "error", "requested_by", "files_checked",
        "bytes_checked", "dossiers_checked", "custody_checked", "records_checked", "audit_checked",
        "checkpoints_checked", "audit_head_seq", "audit_head_hash", "problem_count",
        "created_at", "started_at", "finished_at")}
    return {"id": run.ref, "case_ref": data["case_ref"], **fields, "findings": data["findings"]}
