"""Verification runs and the acknowledgements of their findings as the audit log records them
(held against the log by the verification itself)."""

from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.audit.replay import Projection, Row, names_by_id, stored_rows, table_rows
from ihl_docs.core.models import VerificationFinding, VerificationRun

# What a run writes while it runs, to show its progress and that it is alive.
PROGRESS_FIELDS = frozenset({"stage", "progress", "heartbeat_at"})


def _runs(session, case) -> dict[int, str]:
    where = [VerificationRun.case_id == case.id] if case is not None else []
    return names_by_id(session, VerificationRun, "ref", *where)


def run_rows(session, case):
    runs = _runs(session, case)
    findings: dict[int, list[tuple]] = {}
    for values, _ in stored_rows(session, VerificationFinding):
        if values["run_id"] in runs:
            findings.setdefault(values["run_id"], []).append(
                (values["number"] or 0, values["message"]))
    where = [VerificationRun.case_id == case.id] if case is not None else []
    return table_rows(session, VerificationRun, lambda v: v["ref"], *where, extra=lambda v: {
        "findings": [message for _, message in sorted(findings.get(v["id"], []))]})


def acknowledgement_rows(session, case):
    runs = _runs(session, case)
    for values, unreadable in stored_rows(session, VerificationFinding):
        ref = runs.get(values["run_id"])
        if ref is None:
            continue
        acknowledged = bool(values["acknowledged_at"] or values["acknowledged_by"]
                            or values["acknowledgement"] or "acknowledged_at" in unreadable)
        yield Row(f"{ref}#{values['number']}", {
            "subject": values["subject"], "message": values["message"],
            "acknowledged_at": jsonable(values["acknowledged_at"]),
            "acknowledged_by": values["acknowledged_by"], "note": values["acknowledgement"]},
            unreadable, needs_entry=acknowledged)


RUN = Projection("verification_run", "verification", run_rows, unaudited=PROGRESS_FIELDS,
                 tables=("verification_run", "verification_finding"))
ACKNOWLEDGEMENT = Projection("verification_finding", "finding", acknowledgement_rows,
                             tables=("verification_finding",),
                             subject_of=lambda key: key.partition("#")[0])
