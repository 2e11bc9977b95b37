"""Dossier records: requesting one, the job that builds and stores it, reading and serving it.

The request and the finished result are each recorded in the caller's or the job's own
transaction, with their audit entries. The job itself (`run_dossier`) runs outside any request:
it opens its own short sessions, so a worker, the `ihl dossier` command and tests call it alike.
"""

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, func, select

from ihl_docs.core import progress as progress_records
from ihl_docs.core.access import can_do_legal_work, load_in_case
from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.chain import GENESIS_HASH, canonical_json
from ihl_docs.core.audit.replay import differs_from_log
from ihl_docs.core.db import ROW_LOCK, open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import (
    Conflict,
    DomainError,
    EvidenceIntegrityError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from ihl_docs.core.file_modes import FOLDER, STORED_FILE, Kept
from ihl_docs.core.models import (
    Case,
    Dossier,
    DossierAudience,
    DossierStatus,
    Evidence,
    Incident,
    User,
)
from ihl_docs.core.progress import Heartbeat, Observer, ProgressRecorder
from ihl_docs.core.storage import EvidenceStore, IncomingFile, StoredFile
from ihl_docs.dossiers.audiences import Show, choices, policy_for
from ihl_docs.dossiers.build import BuiltDossier, build_dossier
from ihl_docs.dossiers.content import incident_scope
from ihl_docs.dossiers.parts import dossier_parts
from ihl_docs.dossiers.projection import manifest_digest
from ihl_docs.dossiers.render import ORIGINAL_TYPES
from ihl_docs.dossiers.signature import DossierSigner, check_signing_key, sign_pdf
from ihl_docs.evidence import services as evidence_services

log = logging.getLogger(__name__)

PREPARED_BY_MAX = 200
FULL_IMAGES_MAX = 200
INTERRUPTED = ("Interrupted: the worker building this dossier stopped before it finished. "
               "Nothing was kept; request the dossier again.")
NOT_QUEUED = ("The dossier could not be queued: the job queue is not reachable. Nothing was "
              "built; try again later, or tell an administrator.")
OPEN = (DossierStatus.queued, DossierStatus.running)
COMMAND_ACTOR = "ihl dossier"  # the actor of a dossier requested on the command line
WORKER_ACTOR = "ihl worker"

NOT_CONFIRMED = ("No disclosure check was confirmed: the dossier was requested through {} "
                 "and the requester takes responsibility for what the edition discloses.")


def request_dossier(session: Session, case: Case, *, audience: str, prepared_by: str | None,
                    actor: User | str, incidents: list[str] | None = None,
                    disclosure: dict | None = None, through: str = "the API",
                    full_images: list[str] | None = None) -> Dossier:
    """Record a queued dossier of `case`; `actor` is the requesting user, or the name of a
    command run on the server. "Prepared by" defaults to the user's name. `incidents`: the
    refs of the incidents it covers; None, the audience's default (see `dossier_scope`).
    `disclosure`: for court and public editions, the disclosure check a lawyer confirmed on
    the page; without one, the request records that none was (`through` says how it came).
    `full_images`: refs of image items the edition shows, annexed at full resolution."""
    if isinstance(actor, User):
        if not can_do_legal_work(session, actor, case):
            raise Forbidden("Only the case's lawyers (and administrators) generate dossiers.")
        actor_name, requester, default = actor.email, actor.id, actor.name or actor.email
    else:
        actor_name, requester, default = actor, None, actor
    dossier = Dossier(ref="", case_id=case.id, audience=_audience(audience),
                      prepared_by=_prepared_by(prepared_by) or default[:PREPARED_BY_MAX],
                      requested_by_id=requester)
    dossier.incident_refs = canonical_json(dossier_scope(session, case, audience, incidents))
    if full_images:
        dossier.full_image_refs = canonical_json(_full_images(session, case, audience,
                                                              full_images))
    if policy_for(audience).protects:
        dossier.disclosure = canonical_json(disclosure or {
            "confirmed": False, "note": NOT_CONFIRMED.format(through)})
    session.refresh(case, with_for_update=ROW_LOCK)
    case.dossier_counter += 1
    dossier.ref = f"{case.ref}-D{case.dossier_counter:03d}"
    session.add_all([case, dossier])
    session.flush()
    audit.record(session, actor=actor_name, action="request", entity="dossier",
                 entity_id=dossier.ref, case_ref=case.ref, after=audited(dossier))
    return dossier


def _audience(value: str) -> DossierAudience:
    try:
        return DossierAudience(value)
    except ValueError:
        raise InvalidInput(f"Unknown audience {value!r}: choose {choices()}.",
                           {"audience": f"Choose {choices()}."}) from None


def dossier_scope(session: Session, case: Case, audience: str,
                  chosen: list[str] | None) -> list[str]:
    """The refs of the incidents a dossier covers: those `chosen`, each an incident of `case`;
    or, if None, every incident for the internal audience and the approved ones for court and
    public (the audience table's `default_scope`). A dossier of no incident is refused, for a
    case that has none too."""
    policy = policy_for(audience)
    if chosen is not None:
        chosen = _chosen_refs(session, case, chosen)
    covered, excluded = incident_scope(session, case, policy, chosen)
    if covered:
        return [row.ref for row in covered]
    if chosen is not None:
        message = "Choose at least one incident: a dossier covering no incident is not built."
    elif excluded:
        message = (f"No incident of this case is in the {policy.name} edition's default scope "
                   f"(approved incidents): choose the incidents the dossier covers.")
    else:
        message = (f"Case {case.ref} has no incident yet: a dossier covers at least one. "
                   f"Record the case's incidents first.")
    raise InvalidInput(message, {"incidents": message})


def _chosen_refs(session: Session, case: Case, chosen: list[str]) -> list[str]:
    """The chosen refs, cleaned, each an incident of `case`; otherwise a field error."""
    if any(not isinstance(ref, str) for ref in chosen):
        raise InvalidInput("Incidents are given by their refs.",
                           {"incidents": "Give incident refs."})
    refs = sorted({ref.strip() for ref in chosen if ref.strip()})
    known = set(session.exec(select(Incident.ref).where(Incident.case_id == case.id,
                                                        Incident.ref.in_(refs))))
    unknown = [ref for ref in refs if ref not in known]
    if unknown:
        message = (f"Not an incident of case {case.ref}: {', '.join(unknown)}. Choose among "
                   f"the case's incidents.")
        raise InvalidInput(message, {"incidents": message})
    return refs


def _full_images(session: Session, case: Case, audience: str, chosen: list[str]) -> list[str]:
    """The refs chosen for the full-resolution annex, each an image item of `case` (JPEG or
    PNG) that the audience's edition shows; otherwise a field error naming the first that is
    not."""
    if any(not isinstance(ref, str) for ref in chosen):
        raise InvalidInput("Images are given by their evidence refs.",
                           {"full_images": "Give evidence refs."})
    refs = sorted({ref.strip() for ref in chosen if ref.strip()})
    if len(refs) > FULL_IMAGES_MAX:
        message = f"Annex at most {FULL_IMAGES_MAX} images at full resolution to one dossier."
        raise InvalidInput(message, {"full_images": message})
    items = {e.ref: e for e in session.exec(select(Evidence).where(
        Evidence.case_id == case.id, Evidence.ref.in_(refs)))}
    policy = policy_for(audience)
    for ref in refs:
        item = items.get(ref)
        if item is None:
            message = f"Not an evidence item of case {case.ref}: {ref}."
        elif item.media_type not in ORIGINAL_TYPES or not item.sha256:
            message = f"{ref} is not a JPEG or PNG image: only images can be annexed."
        elif policy.show(item.sensitivity) != Show.shown:
            message = (f"{ref} is {item.sensitivity}: the {policy.name} edition does not show "
                       f"it, so its image cannot be annexed.")
        else:
            continue
        raise InvalidInput(message, {"full_images": message})
    return refs


def chosen_images(dossier: Dossier) -> list[str] | None:
    """The refs of the items whose images a dossier annexes at full resolution."""
    return json.loads(dossier.full_image_refs) if dossier.full_image_refs else None


def chosen_incidents(dossier: Dossier) -> list[str] | None:
    """The refs a dossier was requested for; None for one requested before scopes were kept."""
    return json.loads(dossier.incident_refs) if dossier.incident_refs else None


def _prepared_by(value: str | None) -> str:
    """The name for the cover: one line of printable text, or '' for the default."""
    text = re.sub(r"\s+", " ", value or "").strip()
    if any(not c.isprintable() for c in text):
        raise InvalidInput("'Prepared by' must be plain text.",
                           {"prepared_by": "Use plain text, without control characters."})
    if len(text) > PREPARED_BY_MAX:
        message = f"Give at most {PREPARED_BY_MAX} characters."
        raise InvalidInput(f"'Prepared by' is too long. {message}", {"prepared_by": message})
    return text


def audited(dossier: Dossier) -> dict:
    """The dossier as its audit entries record it: the manifest by its hash, not in full."""
    state = audit.snapshot(dossier)
    state["manifest_sha256"] = manifest_digest(state.pop("manifest"))
    return state


# --- reading ---------------------------------------------------------------------------------

def dossier_for(session: Session, user: User | None, ref: str) -> tuple[Dossier, Case]:
    """The dossier and its case, if the user may see the case; otherwise not found."""
    return load_in_case(session, user, Dossier, ref)


def case_dossiers(session: Session, case: Case, *, offset: int = 0,
                  limit: int = 50) -> tuple[list[Dossier], int]:
    """The case's dossiers, newest first; (one page, total)."""
    query = select(Dossier).where(Dossier.case_id == case.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Dossier.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def requesters(session: Session, dossiers: list[Dossier]) -> dict[int, User]:
    """User id -> the user, for the dossiers' requesters."""
    ids = {d.requested_by_id for d in dossiers if d.requested_by_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))}


def served_file(dossier: Dossier) -> tuple[str, int]:
    """(sha256, size) of the file a download gives: the signed PDF, or for a dossier built
    before signing, the reproducible one."""
    if dossier.signed_sha256:
        return dossier.signed_sha256, dossier.signed_size
    return dossier.sha256, dossier.size


def open_pdf(session: Session, dossier: Dossier, store: EvidenceStore):
    """The stored PDF (the signed one when there is one), re-hashed first; refused while it is
    not built, if it was altered, or if the dossier's row no longer says what its audit entries
    recorded (its files, its case)."""
    if dossier.status != DossierStatus.done:
        raise Conflict(not_ready_message(dossier))
    changed = differs_from_log(session, "dossier", dossier.ref, {
        "sha256": dossier.sha256, "size": dossier.size, "case_id": dossier.case_id,
        "status": str(dossier.status), "signed_sha256": dossier.signed_sha256,
        "signed_size": dossier.signed_size})
    if changed:
        raise EvidenceIntegrityError(
            f"The record of dossier {dossier.ref} differs from its audit log "
            f"({', '.join(changed)}); its PDF was not served. Run `ihl verify`.")
    sha256, _size = served_file(dossier)
    found = store.hash_stored(sha256)
    if found is None or found[0] != sha256:
        raise EvidenceIntegrityError(
            f"The stored PDF of dossier {dossier.ref} is missing or no longer matches its "
            f"SHA-256; it was not served. Run `ihl verify`.")
    return store.open(sha256)


def not_ready_message(dossier: Dossier) -> str:
    if dossier.status == DossierStatus.failed:
        return f"Dossier {dossier.ref} failed, so it has no PDF: {dossier.error}"
    return (f"Dossier {dossier.ref} is {dossier.status} ({dossier.progress} %); its PDF is not "
            f"ready yet.")


# --- the job ---------------------------------------------------------------------------------

def cache_dir(app) -> Path:
    """Where the renderer keeps the sections it has rendered, to reuse unchanged ones."""
    return Path(app.instance_path) / "dossier-cache"


def kept_cache(app) -> list[Kept]:
    """The section cache: rendered pages of the case, read-only for the service like the
    stored files (`ihl init`, `ihl verify`)."""
    return [Kept(cache_dir(app), FOLDER, files=STORED_FILE)]


def signer_for(app) -> DossierSigner:
    """How the app's dossiers are signed: its signing key, its time-stamping authorities."""
    return DossierSigner.from_config(app.config)


def signing_public_key(app) -> str | None:
    """The instance's public key (hex) dossiers are signed with; None if there is none yet or
    the key file cannot be read."""
    from ihl_docs.core.audit.signing import existing_public_key

    try:
        return existing_public_key(app.config["SIGNING_KEY"])
    except (OSError, ValueError, TypeError):
        return None


def check_signing(app) -> None:
    """Refuse a request at once if the signing key could not sign the dossier (a key file that
    exists but is unreadable or not an Ed25519 key): called before a dossier is queued."""
    check_signing_key(app.config["SIGNING_KEY"])


def run_queued(app, dossier_ref: str) -> Dossier | None:
    """The queued job: build the dossier with the app's database, store and section cache."""
    return run_dossier(app.extensions["ihl_engine"], app.extensions["ihl_store"], dossier_ref,
                       cache_dir(app), parts=dossier_parts(app), signer=signer_for(app))


def run_dossier(engine: Engine, store: EvidenceStore, dossier_ref: str,
                cache_dir: Path | None = None, *,
                observer: Observer | None = None, parts: tuple = (),
                signer: DossierSigner | None = None) -> Dossier | None:
    """The job body: build the queued dossier, sign it (given a `signer`), keep both PDFs and
    record them, or record why not.

    Returns the dossier as it ended, or None if it was not queued (already taken, done or
    failed), in which case nothing is done."""
    if not progress_records.start(engine, Dossier, dossier_ref, _actor):
        return None
    progress = ProgressRecorder(engine, Dossier, dossier_ref, observer)
    incoming, signed = store.incoming(), None
    try:
        with Heartbeat(engine, Dossier, dossier_ref):
            built = _build(engine, store, dossier_ref, incoming, cache_dir, progress, parts)
            if signer is not None:
                progress("signing", 99)
                signed = _sign(engine, store, dossier_ref, incoming, signer)
        return _finish(engine, store, dossier_ref, incoming, built, signed)
    except Exception as exc:  # the record says it failed, in words; the log has the details
        log.exception("Dossier %s failed while %s", dossier_ref, progress.stage or "starting")
        return fail_dossier(engine, dossier_ref, failure_message(exc, progress.stage))
    finally:
        incoming.discard()
        if signed is not None:
            signed[0].discard()


def _sign(engine: Engine, store: EvidenceStore, ref: str, unsigned: IncomingFile,
          signer: DossierSigner) -> tuple[IncomingFile, int]:
    """The signed file, written aside, and the audit seq it names: the reproducible bytes
    followed by the signature and `signing.json` (the audit log's head as signing began)."""
    with open_session(engine, write=False) as session:
        dossier = _by_ref(session, ref)
        case = session.get(Case, dossier.case_id)
        head = audit.head(session)
        seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        case_ref = case.ref
    data = sign_pdf(unsigned.path.read_bytes(), signer, {
        "dossier": ref, "case": case_ref, "audit_seq": seq, "audit_head": head_hash})
    out = store.incoming()
    try:
        out.write(data)
    except BaseException:
        out.discard()
        raise
    return out, seq


def _build(engine: Engine, store: EvidenceStore, ref: str, out: IncomingFile,
           cache_dir: Path | None, progress: ProgressRecorder, parts: tuple) -> BuiltDossier:
    with open_session(engine, write=False) as session:
        dossier = _by_ref(session, ref)
        case = session.get(Case, dossier.case_id)
        built = build_dossier(session, case, audience=str(dossier.audience),
                              prepared_by=dossier.prepared_by, store=store, out=out,
                              cache_dir=cache_dir, progress=progress, parts=parts,
                              incidents=chosen_incidents(dossier),
                              full_images=chosen_images(dossier))
    if (built.sha256, built.size) != (out.sha256, out.size):
        raise RuntimeError(f"the PDF written ({out.size} bytes, {out.sha256}) is not the one the "
                           f"builder reported ({built.size} bytes, {built.sha256})")
    return built


def _finish(engine: Engine, store: EvidenceStore, ref: str, incoming: IncomingFile,
            built: BuiltDossier, signed: tuple[IncomingFile, int] | None = None) -> Dossier | None:
    """In one transaction: the files kept (reproducible and signed), the record done, its
    audit entry, the exports."""
    with open_session(engine, write=True) as session:
        dossier = _by_ref(session, ref)
        if dossier.status != DossierStatus.running:  # declared interrupted meanwhile
            session.rollback()
            return None
        case = session.get(Case, dossier.case_id)
        head = audit.head(session)  # the chain as it stood when the build finished
        items = _listed_evidence(session, case, built.manifest)
        dossier.sqlmodel_update(dict(
            status=DossierStatus.done, stage="done", progress=100, sha256=built.sha256,
            size=built.size, page_count=built.page_count, case_fingerprint=built.case_fingerprint,
            manifest=canonical_json(built.manifest), audit_head_seq=head.seq if head else 0,
            audit_head_hash=head.hash if head else GENESIS_HASH, finished_at=utcnow()))
        if signed is not None:
            dossier.sqlmodel_update(dict(signed_sha256=signed[0].sha256, signed_size=signed[0].size,
                                         audit_seq_at_signing=signed[1]))
        session.add(dossier)
        session.flush()
        actor = _actor(session, dossier)
        audit.record(session, actor=actor, action="generate", entity="dossier",
                     entity_id=dossier.ref, case_ref=case.ref,
                     before={"status": DossierStatus.running.value}, after=audited(dossier))
        purpose = f"Listed in dossier {dossier.ref} ({dossier.audience} audience)"
        for item in items:
            evidence_services.record_export(session, item, actor=actor, purpose=purpose, case=case)
        stored = [store.keep(incoming)]  # in place before the commit that names them
        try:
            if signed is not None:
                stored.append(store.keep(signed[0]))
            session.commit()
        except BaseException:
            for each in stored:
                _forget(store, each)
            raise
        return dossier


def _listed_evidence(session: Session, case: Case, manifest: dict) -> list[Evidence]:
    """The case's items that the dossier shows, as its manifest lists them."""
    refs = [entry["ref"] for entry in manifest.get("evidence", [])]
    if not refs:
        return []
    items = {e.ref: e for e in session.exec(select(Evidence).where(
        Evidence.case_id == case.id, Evidence.ref.in_(refs)))}
    unknown = sorted(set(refs) - set(items))
    if unknown:
        raise RuntimeError(f"the manifest lists {len(unknown)} item(s) not in case {case.ref}")
    return [items[ref] for ref in dict.fromkeys(refs)]


def _forget(store: EvidenceStore, stored: StoredFile) -> None:
    """Remove a PDF this job put in the store, when its record could not be committed."""
    if not stored.existed:
        store.path_for(stored.sha256).unlink(missing_ok=True)


def _actor(session: Session, dossier: Dossier) -> str:
    """Who the job acts for: the requester, or the command that asked for it."""
    user = session.get(User, dossier.requested_by_id) if dossier.requested_by_id else None
    return user.email if user else COMMAND_ACTOR


def failure_message(exc: Exception, stage: str) -> str:
    """Why a build failed, in words fit for its requester: no traceback, no case content."""
    if isinstance(exc, DomainError):
        return exc.message
    where = f" while {stage}" if stage and stage != "starting" else ""
    if isinstance(exc, OSError):
        return (f"The dossier could not be written{where}: the evidence store is full or not "
                f"writable. Nothing was kept; tell an administrator.")
    return (f"The dossier could not be built{where}: an internal error occurred. Nothing was "
            f"kept; try again, and tell an administrator if it fails again (the worker's log "
            f"has the details).")


def fail_dossier(engine: Engine, ref: str, message: str) -> Dossier | None:
    """Record that a queued or running dossier failed, and why; None if it was neither."""
    try:
        with open_session(engine, write=True) as session:
            dossier = _by_ref(session, ref)
            if dossier.status not in OPEN:
                return None
            _mark_failed(session, dossier, message, _actor(session, dossier))
            session.commit()
            return dossier
    except SQLAlchemyError:  # the worker's next start will declare it interrupted
        log.exception("Could not record the failure of dossier %s", ref)
        return None


def _mark_failed(session: Session, dossier: Dossier, message: str, actor: str) -> None:
    case = session.get(Case, dossier.case_id)
    progress_records.mark_failed(session, dossier, message, actor=actor, entity="dossier",
                                 case_ref=case.ref)


def fail_interrupted(engine: Engine, older_than: timedelta) -> list[str]:
    """Declare failed the running dossiers silent for longer than `older_than` (no heartbeat:
    their worker died)."""
    with open_session(engine, write=True) as session:
        stale = progress_records.left_running(session, Dossier, older_than)
        for dossier in stale:
            _mark_failed(session, dossier, INTERRUPTED, WORKER_ACTOR)
        session.commit()
        return [d.ref for d in stale]


def waiting_since(engine: Engine, older_than: timedelta) -> list[str]:
    """The refs of dossiers still queued `older_than` after they were requested."""
    return progress_records.waiting_since(engine, Dossier, older_than)


def _by_ref(session: Session, ref: str) -> Dossier:
    dossier = session.exec(select(Dossier).where(Dossier.ref == ref)).first()
    if dossier is None:
        raise NotFound(f"No dossier {ref}.")
    return dossier
