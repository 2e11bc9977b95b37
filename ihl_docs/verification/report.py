"""A verification run's report: the same plain data for the page and the PDF."""

from flask import render_template
from sqlmodel import Session

from ihl_docs.core.models import VerificationRun
from ihl_docs.verification import runs


def report_data(session: Session, run: VerificationRun) -> dict:
    """What the run checked, when, for whom, and each finding with its acknowledgement."""
    case = runs.scope_of(session, run)
    return {
        "ref": run.ref, "status": str(run.status), "stage": run.stage,
        "progress": run.progress, "error": run.error,
        "scope": f"case {case.ref}" if case else "everything",
        "case_ref": case.ref if case else None,
        "requested_by": run.requested_by, "requested_at": run.created_at,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "duration": ((run.finished_at - run.started_at).total_seconds()
                     if run.finished_at and run.started_at else None),
        "checked": [
            ("Evidence files re-hashed (originals and derivatives)", run.files_checked),
            ("Dossier PDFs re-hashed", run.dossiers_checked),
            ("Bytes read", run.bytes_checked),
            ("Records held against the audit log (replayed)", run.records_checked),
            ("Of which custody events", run.custody_checked),
            ("Audit entries recomputed (the whole chain)", run.audit_checked),
            ("Signed checkpoints checked", run.checkpoints_checked),
        ],
        "checkpoints_checked": run.checkpoints_checked,
        "audit_head": (run.audit_head_seq, run.audit_head_hash),
        "problem_count": run.problem_count,
        "findings": [{
            "number": f.number, "kind": str(f.kind), "subject": f.subject, "message": f.message,
            "acknowledged_at": f.acknowledged_at, "acknowledged_by": f.acknowledged_by,
            "acknowledgement": f.acknowledgement,
        } for f in runs.findings_of(session, run)],
    }


def _moment(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def render_pdf(data: dict) -> bytes:
    """The report as PDF, with the dossiers' fonts and stylesheet; it fetches nothing else."""
    from ihl_docs.dossiers.render import STATIC_DIR, page_css, render_html

    html = render_template("verification/report_pdf.html", report=data, iso=_moment)
    pdf, _pages = render_html(html, page_css(f"Verification report {data['ref']}",
                                             "ihl_docs"), str(STATIC_DIR))
    return pdf
