"""Dossier pages: a case's dossiers with the request form, one dossier's progress, its PDF."""

import json
from dataclasses import dataclass
from math import ceil

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from ihl_docs.core.access import can_do_legal_work, case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import EvidenceIntegrityError, Forbidden, InvalidInput
from ihl_docs.core.jobs import enqueue
from ihl_docs.core.models import DossierStatus
from ihl_docs.core.web import MAX_PAGE, commit_form, form_errors_from, pager_for
from ihl_docs.dossiers import BUILD_JOB, services
from ihl_docs.dossiers.audiences import policy_for
from ihl_docs.dossiers.content import disclosure_check
from ihl_docs.dossiers.forms import DossierForm, DossierPageForm
from ihl_docs.dossiers.parts import dossier_parts
from ihl_docs.protection.redaction import digest

bp = Blueprint("dossiers", __name__)

# A dossier is only ever a download: never rendered in the browser, cached or given scripts.
PDF_HEADERS = {"X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox; default-src 'none'",
               "Cache-Control": "no-store"}


@bp.route("/cases/<ref>/dossiers")
@login_required
def case_dossiers(ref):
    """The case's dossiers, newest first, and (for those who may) the form to request one."""
    user = current_user.user
    case = case_for(get_session(), user, ref)
    return _list_page(case, DossierForm(data={"prepared_by": user.name or user.email}))


@bp.route("/cases/<ref>/dossiers", methods=["POST"])
@login_required
def request_dossier(ref):
    """Record the request, commit it, then queue the build (the worker opens its own session)."""
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    if not can_do_legal_work(db, user, case):
        raise Forbidden("Only the case's lawyers (and administrators) generate dossiers.")
    services.check_signing(current_app)  # a key that cannot sign: refused before queueing
    form = DossierForm()
    if form.validate_on_submit():
        check = None
        if policy_for(form.audience.data).protects:
            check = _disclosure(db, case, user, form)
            if check is None:  # the scope was refused: the form says why
                return _list_page(case, form), 422
            if not (form.confirm_disclosure.data and form.disclosure_check.data == check.digest):
                status = 200
                if form.confirm_disclosure.data:
                    status, form.confirm_disclosure.errors = 409, [
                        "The records changed since this check was shown: read it again."]
                elif form.disclosure_check.data:
                    status, form.confirm_disclosure.errors = 422, [
                        "Confirm that you have read the disclosure check."]
                form.disclosure_check.data, form.confirm_disclosure.data = check.digest, False
                return _list_page(case, form, check), status
        disclosure = None if check is None else {
            "confirmed": True, "confirmed_by": user.email, "check_sha256": check.digest,
            "replacements": len(check.hits)}
        post = commit_form(form, lambda: services.request_dossier(
            db, case, audience=form.audience.data, prepared_by=form.prepared_by.data,
            actor=user, incidents=form.chosen_incidents(), disclosure=disclosure,
            full_images=form.chosen_images()))
        if post.saved:
            dossier = post.result
            enqueue(BUILD_JOB, dossier.ref)
            flash(f"Dossier {dossier.ref} requested.", "success")
            return redirect(url_for("dossiers.detail", ref=dossier.ref))
    return _list_page(case, form), 422


@bp.route("/dossiers/<ref>")
@login_required
def detail(ref):
    """Stage and percentage while it is being built; then the PDF, or why it failed."""
    db = get_session()
    dossier, case = services.dossier_for(db, current_user.user, ref)
    requester = services.requesters(db, [dossier]).get(dossier.requested_by_id)
    return render_template("dossiers/detail_signed.html", dossier=dossier, case=case,
                           requester=requester, building=dossier.status in services.OPEN,
                           public_key=services.signing_public_key(current_app),
                           scope=services.chosen_incidents(dossier),
                           images=services.chosen_images(dossier),
                           disclosure=json.loads(dossier.disclosure) if dossier.disclosure else None)


@bp.route("/dossiers/<ref>/pdf")
@login_required
def pdf(ref):
    """The stored PDF as an attachment named by the ref, re-hashed before it is served."""
    db = get_session()
    dossier, case = services.dossier_for(db, current_user.user, ref)
    try:
        stored = services.open_pdf(db, dossier, current_app.extensions["ihl_store"])
    except EvidenceIntegrityError as exc:
        return render_template("errors/error.html", status=exc.status,
                               message=exc.message), exc.status
    response = send_file(stored, mimetype="application/pdf", as_attachment=True,
                         download_name=f"{dossier.ref}.pdf", conditional=False, etag=False)
    response.content_length = services.served_file(dossier)[1]
    response.headers.update(PDF_HEADERS)
    return response


@dataclass(frozen=True)
class Check:
    hits: list
    digest: str


def _disclosure(db, case, user, form) -> Check | None:
    """What the court or public edition requested would replace, or None (the form's error
    set) when its scope is refused."""
    try:
        scope = services.dossier_scope(db, case, form.audience.data, form.chosen_incidents())
    except InvalidInput as exc:
        form_errors_from(form, exc)
        return None
    hits = disclosure_check(
        db, case, audience=form.audience.data,
        prepared_by=form.prepared_by.data or user.name or user.email,
        store=current_app.extensions["ihl_store"], parts=dossier_parts(current_app),
        incidents=scope, full_images=form.chosen_images())
    return Check(hits, digest(hits))


def _list_page(case, form, check: Check | None = None):
    db, user = get_session(), current_user.user
    size = current_app.config["PAGE_SIZE"]
    pages_form = DossierPageForm(request.args)
    pages_form.validate()
    page = min(pages_form.valid_page(), MAX_PAGE)
    dossiers, total = services.case_dossiers(db, case, offset=(page - 1) * size, limit=size)
    pages = max(1, ceil(total / size))
    if page > pages:
        page = pages
        dossiers, total = services.case_dossiers(db, case, offset=(page - 1) * size, limit=size)
    return render_template(
        "dossiers/list.html", case=case, form=form, dossiers=dossiers,
        requesters=services.requesters(db, dossiers), statuses=DossierStatus,
        pager=pager_for(pages_form, page, pages, total), check=check,
        can_generate=can_do_legal_work(db, user, case))
