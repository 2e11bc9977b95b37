"""Evidence pages: a case's items, adding one, its page with links and custody, the original."""

import mimetypes
import re
from math import ceil

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ihl_docs.core.access import EDIT, can_edit_case, case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import (
    Conflict,
    CustodyRuleViolation,
    EvidenceIntegrityError,
    InvalidInput,
    NotFound,
    TooLarge,
)
from ihl_docs.core.forms_support import options, validated
from ihl_docs.core.models import CustodyEventCreate, Evidence, EvidenceCreate, Incident
from ihl_docs.core.web import MAX_PAGE, commit_form, load_for_user, pager_for
from ihl_docs.evidence import custody_times, services
from ihl_docs.evidence.forms import (
    CustodyForm,
    EvidenceFilterForm,
    EvidenceForm,
    IncidentLinkForm,
    LinkForm,
    incident_choices,
)

bp = Blueprint("evidence", __name__)

# An original is only ever a download: never sniffed, rendered, cached or given scripts.
ORIGINAL_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "sandbox; default-src 'none'",
                    "Cache-Control": "no-store"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif",
              "application/pdf": ".pdf", "video/mp4": ".mp4", "audio/mpeg": ".mp3",
              "text/plain": ".txt"}


@bp.app_template_filter("bytes")
def bytes_in_words(size: int | None) -> str:
    """A file size as people read it, with the exact count of bytes."""
    if size is None:
        return "—"
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024 ** power:
            return f"{size / 1024 ** power:.1f} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


@bp.route("/cases/<ref>/evidence")
@login_required
def case_evidence(ref):
    """The case's items, filtered by kind, sensitivity and linked incident."""
    db = get_session()
    case = case_for(db, current_user.user, ref)
    incidents = _incidents_of(case)
    form = EvidenceFilterForm(request.args, incidents=incidents)
    form.validate()
    chosen = {i.ref: i.id for i in incidents}.get(form.valid("incident"))
    flt = services.EvidenceFilter(kind=form.valid("kind"), sensitivity=form.valid("sensitivity"),
                                  incident_id=chosen)
    items, page, pages, total = _one_page(case, flt, min(form.valid("page") or 1, MAX_PAGE))
    return render_template("evidence/list.html", case=case, form=form, items=items,
                           links=services.incident_refs(db, items),
                           pager=pager_for(form, page, pages, total),
                           can_edit=can_edit_case(db, current_user.user, case))


@bp.route("/cases/<ref>/evidence/new", methods=["GET", "POST"])
@login_required
def new(ref):
    """Add an item, with its file or as a physical item; `?incident=` chooses the incident."""
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref, write=True)
    incidents = _incidents_of(case)
    form = EvidenceForm(data={"incident": request.args.get("incident", "")}, incidents=incidents)
    incident = next((i for i in incidents if i.ref == form.incident.data), None)
    status = 422
    if form.is_submitted() and (data := _checked(form)):
        upload = form.file.data  # its stream is the IncomingFile, already hashed in the store
        post = commit_form(form, lambda: services.register_evidence(
            db, case, data, upload.stream if upload else None,
            original_filename=upload.filename if upload else "", actor=user,
            store=_store(), max_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
            incident=incident, relevance=form.relevance.data or ""),
            refused=(TooLarge, Conflict, InvalidInput), full_messages=(TooLarge, Conflict))
        if post.saved:
            item = post.result
            flash(f"{item.ref} recorded{' and its SHA-256 computed' if item.sha256 else ''}.",
                  "success")
            return redirect(url_for("evidence.detail", ref=item.ref))
        status = post.status
    return render_template("evidence/form.html", form=form, case=case, from_incident=incident,
                           limit_mb=current_app.config["MAX_UPLOAD_MB"]), \
        status if form.is_submitted() else 200


@bp.route("/evidence/<ref>")
@login_required
def detail(ref):
    return _detail_page(*_evidence_for(ref))


@bp.route("/evidence/<ref>/thumbnail")
@login_required
def thumbnail(ref):
    """The thumbnail made from an image: a derived object, never the original's bytes."""
    item, _ = _evidence_for(ref)
    thumb = services.thumbnail_of(get_session(), item)
    if thumb is None or not _store().exists(thumb.sha256):
        raise NotFound(f"{item.ref} has no thumbnail.")
    with _store().open(thumb.sha256) as stored:  # small: at most THUMBNAIL_PX square
        data = stored.read()
    return Response(data, mimetype="image/jpeg", headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="{item.ref}-thumbnail.jpg"'})


@bp.route("/evidence/<ref>/download", methods=["GET", "POST"])
@login_required
def download(ref):
    """The original, as an attachment. A POST (with the form's CSRF token), so that neither a
    prefetch nor another site's link can put a read on record in someone's name."""
    item, case = _evidence_for(ref)
    if request.method == "GET":
        return redirect(url_for("evidence.detail", ref=item.ref) + "#original")
    db = get_session()
    try:
        original = services.open_original(db, item, actor=current_user.user, store=_store())
    except EvidenceIntegrityError as exc:
        db.rollback()
        return render_template("evidence/integrity_error.html", item=item, case=case,
                               message=exc.message), exc.status
    try:
        db.commit()  # the read is on record before a byte leaves
    except Exception:
        original.close()
        raise
    response = send_file(original, mimetype="application/octet-stream", as_attachment=True,
                         download_name=download_name(item), conditional=False, etag=False)
    response.content_length = item.size
    response.headers.update(ORIGINAL_HEADERS)
    return response


@bp.route("/evidence/<ref>/incidents", methods=["POST"])
@login_required
def link(ref):
    """From the item's page: link it to an incident of its case."""
    db, user = get_session(), current_user.user
    item, case = _evidence_for(ref, write=True)
    incidents = _incidents_of(case)
    form = LinkForm(incidents=incidents)
    status = 422
    if form.validate_on_submit():
        incident = next(i for i in incidents if i.ref == form.incident.data)
        post = commit_form(form, lambda: services.link_evidence(
            db, incident, item, form.relevance.data or "", actor=user),
            refused=(InvalidInput, Conflict), on_field="incident")
        if post.saved:
            flash(f"{item.ref} is now linked to incident {incident.ref}.", "success")
            return redirect(url_for("evidence.detail", ref=item.ref) + "#incidents")
        status = post.status
    return _detail_page(item, case, link_form=form), status


@bp.route("/evidence/<ref>/custody", methods=["POST"])
@login_required
def record_custody(ref):
    """Add a step to the item's chain of custody."""
    db, user = get_session(), current_user.user
    item, case = _evidence_for(ref, write=True)
    form = CustodyForm()
    form_ok = form.validate()
    data = validated(form, CustodyEventCreate, form.custody_data())
    status = 422
    if form_ok and data:
        post = commit_form(form, lambda: services.record_custody(db, item, data, actor=user,
                                                                 store=_store()),
                           refused=(CustodyRuleViolation,))
        if post.saved:
            flash(f"Custody event recorded: {post.result.action}.", "success")
            return redirect(url_for("evidence.detail", ref=item.ref) + "#custody")
    return _detail_page(item, case, custody_form=form), status


@bp.route("/incidents/<ref>/evidence/link", methods=["GET", "POST"])
@login_required
def link_to_incident(ref):
    """From an incident's page: link an item of its case that is not linked to it yet."""
    db, user = get_session(), current_user.user
    incident, case = _incident_for(ref)
    case_for(db, user, case.ref, write=True)
    linked = {e.id for e, _ in services.evidence_of_incident(db, incident)}
    candidates = [e for e in db.exec(select(Evidence).where(Evidence.case_id == case.id)
                                     .order_by(Evidence.id)) if e.id not in linked]
    form = IncidentLinkForm(evidence=candidates)
    status = 422
    if form.validate_on_submit():
        item = next(e for e in candidates if e.ref == form.evidence_ref.data)
        post = commit_form(form, lambda: services.link_evidence(
            db, incident, item, form.relevance.data or "", actor=user),
            refused=(InvalidInput, Conflict), full_messages=True)
        if post.saved:
            flash(f"{item.ref} is now linked to incident {incident.ref}.", "success")
            return redirect(url_for("incidents.detail", ref=incident.ref) + "#evidence")
        status = post.status
    return render_template("evidence/link_incident.html", form=form, incident=incident,
                           case=case), status if form.is_submitted() else 200


def download_name(item) -> str:
    """The ref and an extension for the detected type; never the original file name, which may
    identify a witness."""
    ext = EXTENSIONS.get(item.media_type) or mimetypes.guess_extension(item.media_type) or ""
    return item.ref + (ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext) else ".bin")


def _store():
    return current_app.extensions["ihl_store"]


def _evidence_for(ref: str, *, write: bool = False):
    """The item and its case if the user may see them; otherwise 'not found', whatever the
    reason, so that another case's evidence is not revealed."""
    return load_for_user(Evidence, ref, need=EDIT if write else None)


def _incident_for(ref: str):
    return load_for_user(Incident, ref)


def _incidents_of(case) -> list[Incident]:
    return list(get_session().exec(select(Incident).where(Incident.case_id == case.id)
                                   .order_by(Incident.id)))


def _checked(form):
    """The form's own checks, then EvidenceCreate's; the data only if both passed."""
    form_ok = form.validate()
    data = validated(form, EvidenceCreate, form.evidence_data())
    return data if form_ok else None


def _one_page(case, flt, page: int):
    """(items, page, pages, total); a page past the end shows the last one."""
    size = current_app.config["PAGE_SIZE"]
    items, total = services.search_evidence(get_session(), case, flt, offset=(page - 1) * size,
                                            limit=size)
    pages = max(1, ceil(total / size))
    return _one_page(case, flt, pages) if page > pages else (items, page, pages, total)


def _detail_page(item, case, *, link_form=None, custody_form=None):
    db = get_session()
    links = services.linked_incidents(db, item)
    chain = services.custody_chain(db, item)
    can_edit = can_edit_case(db, current_user.user, case)
    linked = {i.id for i, _ in links}
    if can_edit:
        link_form = link_form or LinkForm(formdata=None, incidents=[])
        link_form.incident.choices = options([("", "— choose —")] + incident_choices(
            [i for i in _incidents_of(case) if i.id not in linked]))
        custody_form = custody_form or CustodyForm(formdata=None)
    parent = db.get(Evidence, item.parent_id) if item.parent_id else None
    return render_template(
        "evidence/detail.html", item=item, case=case, parent=parent, links=links,
        thumbnail=services.thumbnail_of(db, item),
        flags=services.metadata_discrepancies(item, [i for i, _ in links]),
        chain=chain, warnings=services.custody_warnings(chain, item), can_edit=can_edit,
        times=_custody_times(chain, [i for i, _ in links]),
        link_form=link_form, custody_form=custody_form)


def _custody_times(chain, incidents) -> dict:
    """Event id -> when it happened and was recorded, in the item's incident's local time."""
    zone = custody_times.custody_zone(incidents)
    return {event.id: custody_times.custody_times(event, zone) for event in chain}
