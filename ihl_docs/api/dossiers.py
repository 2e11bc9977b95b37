"""Dossiers through the API: request one (built in the background), follow it, get the PDF."""

from flask import current_app, send_file

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.pages import located_at, page
from ihl_docs.api.schemas import DossierAccepted, DossierRead
from ihl_docs.core.access import can_do_legal_work, case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden
from ihl_docs.core.jobs import enqueue
from ihl_docs.core.models import Dossier, User
from ihl_docs.dossiers import BUILD_JOB, services

PDF_HEADERS = {"X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox; default-src 'none'",
               "Cache-Control": "no-store"}


def list_case_dossiers(ref: str):
    """The case's dossiers, newest first."""
    session = get_session()
    case = case_for(session, api_user(), inputs.checked_ref(ref, "case"))
    params = inputs.query()
    rows, total = services.case_dossiers(session, case, offset=params.offset, limit=params.limit)
    users = services.requesters(session, rows)
    return page([dossier_read(row, case.ref, users) for row in rows], total, params)


def request_case_dossier(ref: str):
    """Record the request and queue the build; the answer says how far it got."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"))
    if not can_do_legal_work(session, user, case):
        raise Forbidden("Only the case's lawyers (and administrators) generate dossiers.")
    body = inputs.body()
    services.check_signing(current_app)  # a key that cannot sign: refused before queueing
    dossier = services.request_dossier(session, case, audience=body.audience.value,
                                       prepared_by=body.prepared_by, actor=user,
                                       incidents=body.incidents,
                                       full_images=body.full_images)
    session.commit()  # the worker (or, immediate, this thread) opens its own session
    enqueue(BUILD_JOB, dossier.ref)
    session.refresh(dossier)
    located_at("api.show_dossier", id=dossier.ref)

    return DossierAccepted(id=dossier.ref, status=dossier.status, progress=dossier.progress)


def show_dossier(id: str):  # noqa: A002 - the path names it so
    """A dossier's status and progress; once done, the PDF's hash, pages and case fingerprint."""
    session = get_session()
    dossier, case = services.dossier_for(session, api_user(), inputs.checked_ref(id, "dossier"))
    return dossier_read(dossier, case.ref, services.requesters(session, [dossier]))


def download_dossier_pdf(id: str):  # noqa: A002
    """The stored PDF, re-hashed first, as an attachment named by the ref."""
    session = get_session()
    dossier, _case = services.dossier_for(session, api_user(), inputs.checked_ref(id, "dossier"))
    stored = services.open_pdf(session, dossier, current_app.extensions["ihl_store"])
    response = send_file(stored, mimetype="application/pdf", as_attachment=True,
                         download_name=f"{dossier.ref}.pdf", conditional=False,
                         etag=services.served_file(dossier)[0])
    response.content_length = services.served_file(dossier)[1]
    response.headers.update(PDF_HEADERS)
    return response


def dossier_read(dossier: Dossier, case_ref: str, users: dict[int, User]) -> DossierRead:
    requester = users.get(dossier.requested_by_id)
    return DossierRead.model_construct(
        id=dossier.ref, case_ref=case_ref, status=dossier.status, progress=dossier.progress,
        stage=dossier.stage, audience=dossier.audience, prepared_by=dossier.prepared_by,
        requested_by=requester.email if requester else None, sha256=dossier.sha256,
        size=dossier.size, page_count=dossier.page_count,
        case_fingerprint=dossier.case_fingerprint, signed_sha256=dossier.signed_sha256,
        signed_size=dossier.signed_size, audit_seq_at_signing=dossier.audit_seq_at_signing,
        error=dossier.error or None,
        created_at=dossier.created_at, started_at=dossier.started_at,
        finished_at=dossier.finished_at)
