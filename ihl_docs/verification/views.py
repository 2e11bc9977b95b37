"""Verification pages for auditors and administrators: start a run, follow it, read its report
(as a page and as a PDF), acknowledge its findings."""

from math import ceil

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlmodel import select

from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, InvalidInput, NotFound
from ihl_docs.core.jobs import enqueue
from ihl_docs.core.login import role_required
from ihl_docs.core.models import Case
from ihl_docs.core.web import MAX_PAGE, commit_form, pager_for
from ihl_docs.verification import VERIFY_JOB, report, runs
from ihl_docs.verification.forms import EVERYTHING, AcknowledgeForm, RunPageForm, VerificationForm

bp = Blueprint("verification", __name__, url_prefix="/verification")
VERIFIERS = ("auditor", "admin")
PDF_HEADERS = {"X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox; default-src 'none'",
               "Cache-Control": "no-store"}


def _case_refs() -> list[str]:
    return list(get_session().exec(select(Case.ref).order_by(Case.ref)))


@bp.route("/")
@role_required(*VERIFIERS)
def index():
    """The runs, newest first, and the form to start one."""
    return _list_page(VerificationForm().with_cases(_case_refs()))


@bp.route("/", methods=["POST"])
@role_required(*VERIFIERS)
def start():
    """Record the run, commit it, then queue it (the worker opens its own sessions)."""
    db = get_session()
    form = VerificationForm().with_cases(_case_refs())
    if form.validate_on_submit():
        case = None
        if form.scope.data != EVERYTHING:
            case = db.exec(select(Case).where(Case.ref == form.scope.data)).first()
        run = runs.request_run(db, actor=current_user.user, case=case)
        db.commit()
        enqueue(VERIFY_JOB, run.ref)
        flash(f"Verification {run.ref} started.", "success")
        return redirect(url_for("verification.detail", ref=run.ref))
    return _list_page(form), 422


@bp.route("/<ref>")
@role_required(*VERIFIERS)
def detail(ref):
    """Stage and percentage while it runs; then what was checked and every finding."""
    return _detail_page(ref)


@bp.route("/<ref>/findings/<int:number>", methods=["POST"])
@role_required(*VERIFIERS)
def acknowledge(ref, number):
    db = get_session()
    run = runs.run_by_ref(db, ref)
    form = AcknowledgeForm(prefix=f"finding-{number}")
    if form.validate_on_submit():
        post = commit_form(form, lambda: runs.acknowledge(db, run, number, form.note.data,
                                                          actor=current_user.user),
                           refused=(Conflict, InvalidInput))
        finding = url_for("verification.detail", ref=ref, _anchor=f"finding-{number}")
        if post.saved:
            flash(f"Finding {number} acknowledged.", "success")
            return redirect(finding)
        # Acknowledged meanwhile, by someone else or in another tab: say so on the run's page.
        if isinstance(post.error, Conflict):
            flash(post.error.message, "error")
            return redirect(finding)
    return _detail_page(ref, failed=(number, form)), 422


@bp.route("/<ref>/report.pdf")
@role_required(*VERIFIERS)
def report_pdf(ref):
    """The report as a PDF, made now from the run's record (acknowledgements included)."""
    db = get_session()
    run = runs.run_by_ref(db, ref)
    if run.status != "done":
        raise Conflict(f"Verification {run.ref} is {run.status}; its report is made when it is "
                       f"done.")
    pdf = report.render_pdf(report.report_data(db, run))
    return Response(pdf, mimetype="application/pdf", headers={
        **PDF_HEADERS, "Content-Disposition": f'attachment; filename="{run.ref}.pdf"'})


def _detail_page(ref, failed=None):
    db = get_session()
    run = runs.run_by_ref(db, ref)
    data = report.report_data(db, run)
    forms = {}
    for finding in data["findings"]:
        if finding["acknowledged_at"] is None:
            number = finding["number"]
            forms[number] = (failed[1] if failed and failed[0] == number
                             else AcknowledgeForm(formdata=None, prefix=f"finding-{number}"))
    if failed and failed[0] not in forms:
        raise NotFound(f"No finding {failed[0]} in verification {run.ref}.")
    return render_template("verification/detail.html", run=run, report=data, forms=forms,
                           running=run.status in runs.OPEN)


def _list_page(form):
    db = get_session()
    size = current_app.config["PAGE_SIZE"]
    pages_form = RunPageForm(request.args)
    pages_form.validate()
    page = min(pages_form.valid_page(), MAX_PAGE)
    rows, total = runs.list_runs(db, offset=(page - 1) * size, limit=size)
    pages = max(1, ceil(total / size))
    if page > pages:
        page = pages
        rows, total = runs.list_runs(db, offset=(page - 1) * size, limit=size)
    cases = {c.id: c.ref for c in db.exec(select(Case).where(
        Case.id.in_({r.case_id for r in rows if r.case_id})))}
    return render_template("verification/list.html", form=form, runs=rows, cases=cases,
                           pager=pager_for(pages_form, page, pages, total))

