"""Evidence through the API: list and record within a case, show, download, link to incidents."""

import io
import mimetypes

from flask import current_app, request, send_file
from sqlmodel import Session, select

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.errors import invalid
from ihl_docs.api.incidents import incident_for
from ihl_docs.api.pages import page
from ihl_docs.api.schemas import EvidenceLinkRead
from ihl_docs.core.access import EDIT, case_for, load_in_case
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import NotFound
from ihl_docs.core.models import Case, Evidence, EvidenceCreate, Incident, User
from ihl_docs.evidence import services
from ihl_docs.evidence.upload import store

MIB = 1024 * 1024
# An original is only ever a download: never rendered, sniffed or allowed to run anything.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "sandbox; default-src 'none'",
                    "Cache-Control": "no-store"}


def list_case_evidence(ref: str):
    """The case's items in the order they were recorded, filtered like the web list."""
    session = get_session()
    case = case_for(session, api_user(), inputs.checked_ref(ref, "case"))
    params = inputs.query()
    incident = params.incident and _incident_in(session, case, params.incident, "incident")
    wanted = services.EvidenceFilter(kind=params.kind, sensitivity=params.sensitivity,
                                     incident_id=incident.id if incident else None)
    rows, total = services.search_evidence(session, case, wanted, offset=params.offset,
                                           limit=params.limit)
    return page([services.evidence_read(session, row) for row in rows], total, params)


def upload_case_evidence(ref: str):
    """Record an item: its file streamed into the store as it arrives, or a physical item."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"), write=True)
    # SQLite: no write lock is held while the body arrives, which may take minutes.
    session.commit()
    form, upload = inputs.multipart()
    record = inputs.validated(lambda: EvidenceCreate.model_validate(
        form.model_dump(include=set(EvidenceCreate.model_fields))))
    incident = None
    if form.incident_ref:
        incident = _incident_in(session, case, form.incident_ref, "incident_ref")
    elif form.relevance.strip():
        raise invalid({"relevance": "Give incident_ref too: the incident it is relevant to."})
    evidence = services.register_evidence(
        session, case, record, upload.stream if upload else None,
        original_filename=(upload.filename or "") if upload else "", actor=user, store=store(),
        max_bytes=current_app.config["MAX_UPLOAD_MB"] * MIB, incident=incident,
        relevance=form.relevance)
    result = services.evidence_read(session, evidence)
    session.commit()
    return result


def show_evidence(ref: str):
    session = get_session()
    return services.evidence_read(session, evidence_for(session, api_user(), ref))


def download_evidence(ref: str):
    """The original bytes as an attachment named by the ref, after an `accessed` event."""
    session, user = get_session(), api_user()
    evidence = evidence_for(session, user, ref)
    if request.method == "HEAD":  # no byte is read, so nothing is recorded
        if not evidence.sha256:
            raise NotFound(f"{evidence.ref} is a physical item; it has no file.")
        return _attachment(evidence, io.BytesIO())
    session.commit()  # SQLite: no write lock is held while the file is re-hashed
    original = services.open_original(session, evidence, actor=user, store=store())
    try:
        session.commit()  # the access is on record before a byte is sent
    except BaseException:
        original.close()
        raise
    return _attachment(evidence, original)


def _attachment(evidence: Evidence, original):
    response = send_file(original, mimetype=evidence.media_type or "application/octet-stream",
                         as_attachment=True, download_name=download_name(evidence),
                         conditional=False, etag=evidence.sha256)
    response.content_length = evidence.size
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def download_name(evidence: Evidence) -> str:
    """The ref and an extension for the media type; never the name the file came with."""
    extension = mimetypes.guess_extension(evidence.media_type or "") or ".bin"
    return evidence.ref + extension


def link_incident_evidence(ref: str):
    """Link an item of the same case to the incident, with why it matters."""
    session, user = get_session(), api_user()
    incident = incident_for(session, user, ref, write=True)
    body = inputs.body()
    evidence = _linkable(session, user, body.evidence_ref)
    link = services.link_evidence(session, incident, evidence, body.relevance, actor=user)
    result = EvidenceLinkRead(incident_ref=incident.ref, evidence_ref=evidence.ref,
                              relevance=link.relevance, linked_at=link.linked_at,
                              linked_by=user.email)
    session.commit()
    return result


def evidence_for(session: Session, user: User, ref: str, *, write: bool = False) -> Evidence:
    """The item if the user may see it (404 otherwise) and, with write=True, add to it (403)."""
    inputs.checked_ref(ref, "evidence")
    return load_in_case(session, user, Evidence, ref, need=EDIT if write else None,
                        refusal="Your role does not allow changing evidence in this case.")[0]


def _incident_in(session: Session, case: Case, ref: str, field: str) -> Incident:
    incident = session.exec(select(Incident).where(Incident.ref == ref,
                                                   Incident.case_id == case.id)).first()
    if incident is None:
        raise invalid({field: f"No incident {ref} in case {case.ref}."})
    return incident


def _linkable(session: Session, user: User, ref: str) -> Evidence:
    """The item named in a link body; one the user cannot see is reported as unknown."""
    try:
        return evidence_for(session, user, ref)
    except NotFound:
        raise invalid({"evidence_ref": f"No evidence {ref} that you can see."}) from None

