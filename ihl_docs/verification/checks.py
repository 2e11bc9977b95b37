"""Everything `ihl verify` and the API's /verify check: stored files and the audit chain."""

from sqlmodel import Session, select

from ..audit.services import verify_chain
from ..models import Dossier, DossierStatus, Evidence, EvidenceDerivative
from ..storage import EvidenceStore


def verify_files(session: Session, store: EvidenceStore) -> tuple[int, list[str]]:
    """Re-hash every stored evidence file, derivative and dossier PDF; name each one missing or
    altered by the evidence or dossier ref."""
    problems, checked = [], 0
    rows = session.exec(select(Evidence.ref, Evidence.sha256, Evidence.size)
                        .where(Evidence.sha256.is_not(None)).order_by(Evidence.id)).all()
    derived = session.exec(select(Evidence.ref, EvidenceDerivative.purpose,
                                  EvidenceDerivative.sha256, EvidenceDerivative.size)
                           .join(Evidence, Evidence.id == EvidenceDerivative.evidence_id)
                           .order_by(EvidenceDerivative.id)).all()
    dossiers = session.exec(select(Dossier.ref, Dossier.sha256, Dossier.size)
                            .where(Dossier.status == DossierStatus.done)
                            .order_by(Dossier.id)).all()
    items = [(f"evidence {ref}", sha, size) for ref, sha, size in rows]
    items += [(f"evidence {ref} ({purpose})", sha, size) for ref, purpose, sha, size in derived]
    items += [(f"dossier {ref}", sha, size) for ref, sha, size in dossiers]
    for label, sha256, size in items:
        checked += 1
        found = store.hash_stored(sha256)
        if found is None:
            problems.append(f"{label}: file missing (sha256 {sha256})")
        elif found[0] != sha256:
            problems.append(f"{label}: file altered (recorded sha256 {sha256}, now {found[0]})")
        elif size is not None and found[1] != size:
            problems.append(f"{label}: size {found[1]} differs from the recorded {size}")
    return checked, problems


def verify_all(session: Session, store: EvidenceStore, *, public_key: str | None = None) -> dict:
    """Re-hash the files, recompute the audit chain and hold it against its signed checkpoints
    (with `public_key`, the key they must be signed by); returns {ok, files, audit_entries,
    problems}."""
    files, file_problems = verify_files(session, store)
    count, chain_problems = verify_chain(session, public_key)
    problems = file_problems + chain_problems
    return {"ok": not problems, "files": files, "audit_entries": count, "problems": problems}


def instance_public_key(key_path: str) -> str | None:
    """This instance's checkpoint key, which every checkpoint must be signed by (None: no key
    file yet, or one this process cannot read — then any validly signed checkpoint counts)."""
    from ..audit.signing import existing_public_key

    try:
        return existing_public_key(key_path)
    except (OSError, ValueError):
        return None
