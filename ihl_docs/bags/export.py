"""Writing a case as a BagIt bag, and recording that it went out (custody, audit, checkpoint)."""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import bagit
from sqlmodel import Session, select

from ihl_docs.bags import FILES_DIR, SEAL_FORMAT, SEAL_KIND, BagRefused
from ihl_docs.bags.records import case_records, files_of
from ihl_docs.cases.services import get_case
from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.audit.checkpoints import checkpoint_document, make_checkpoint, witness
from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.signing import public_key_hex
from ihl_docs.core.audit.verify_audit import seal_message
from ihl_docs.core.case_records import RecordPart
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditCheckpoint, Case, Evidence
from ihl_docs.core.storage import CHUNK, EvidenceStore
from ihl_docs.evidence.services import record_export

EXPORT_ACTOR = "ihl export"
VERIFIER = Path(__file__).resolve().parents[1] / "core" / "audit" / "verify_audit.py"


@dataclass(frozen=True)
class ExportResult:
    case_ref: str
    items: int
    files: int
    audit_entries: int  # of the case, in full in the bag
    checkpoint_seq: int
    public_key: str
    created_folder: bool


def check_target(target: Path) -> None:
    """Refuse a folder that exists and is not empty (or is not a folder)."""
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise BagRefused(f"{target} already exists and is not an empty folder; give a new or "
                         "empty one.")


def export_case(session: Session, store: EvidenceStore, case_ref: str, target: Path, *, key,
                witnesses: Witnesses, parts: list[RecordPart], actor: str = EXPORT_ACTOR
                ) -> ExportResult:
    """Write the case as a bag in `target` (new or empty) and validate it; record an `exported`
    custody event per item, one audit entry and a signed checkpoint, flushed, not committed.

    The records are those of the moment the export began: the export's own custody events and
    audit entry are in the bag's audit log (which the checkpoint signs), not in its records.
    `parts`: the record files, as the features registered them; `witnesses`: where the
    checkpoint is written, once the bag is (last, so that only a commit can still fail after).
    Whatever fails, the folder is left as it was found (removed, or emptied)."""
    check_target(target)
    case = get_case(session, case_ref)
    records = case_records(session, case, parts)
    files = files_of(records, parts)
    created = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BagRefused(f"Cannot create {target} ({exc.strerror or exc}).") from None
    try:
        # The files first: the slow part, done before the export takes the audit chain's lock.
        _copy_files(store, target / FILES_DIR, files)
        digests = _write_records(target, records)
        checkpoint = _record_export(session, case, target, files, key=key, witnesses=witnesses,
                                    actor=actor)
        sealed, redacted = _write_audit(session, case, target, checkpoint)
        _write_seal(target, case, checkpoint, (sealed, redacted), digests, key)
        _make_bag(target, case, checkpoint)
        witness(witnesses, checkpoint)
    except OSError as exc:
        discard_bag(target, created)
        raise BagRefused(f"The bag could not be written in {target} ({exc.strerror or exc}); "
                         "nothing was exported.") from None
    except BaseException:
        discard_bag(target, created)
        raise
    return ExportResult(case.ref, len(records["evidence.json"]), len(files), len(sealed),
                        checkpoint.seq, checkpoint.public_key, created)


def discard_bag(target: Path, created: bool) -> None:
    """Remove what an export wrote: the folder if it made it, else the folder's contents."""
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for path in target.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _record_export(session: Session, case: Case, target: Path, files: list[str], *, key,
                   witnesses: Witnesses, actor: str) -> AuditCheckpoint:
    items = session.exec(select(Evidence).where(Evidence.case_id == case.id)
                         .order_by(Evidence.ref)).all()
    for item in items:
        record_export(session, item, actor=actor, purpose=f"Exported with case {case.ref} as a "
                      "BagIt bag (ihl export)", case=case)
    audit.record(session, actor=actor, action="export", entity="case", entity_id=case.ref,
                 case_ref=case.ref, after={"to": os.path.abspath(target), "evidence": len(items),
                                           "files": len(files)})
    checkpoint = make_checkpoint(session, key, witnesses)
    if checkpoint is None:  # cannot happen: the export's own entry is the unsigned head
        raise BagRefused("No checkpoint could be signed for the export.")
    return checkpoint


def _write_json(path: Path, value) -> str:
    data = (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _write_records(target: Path, records: dict[str, object]) -> dict[str, str]:
    """Write the record files; return file name -> SHA-256 of what was written."""
    return {name: _write_json(target / name, value) for name, value in records.items()}


def _copy_files(store: EvidenceStore, folder: Path, files: list[str]) -> None:
    """Copy each stored file, hashing it on the way: a file that no longer matches its
    SHA-256 stops the export."""
    folder.mkdir()
    for sha256 in files:
        digest = hashlib.sha256()
        try:
            with store.open(sha256) as source, open(folder / sha256, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except FileNotFoundError:
            raise BagRefused(f"The stored file {sha256} is missing from the evidence store; "
                             "nothing was exported. Run `ihl verify`.") from None
        if digest.hexdigest() != sha256:
            raise BagRefused(f"The stored file {sha256} no longer matches its SHA-256; nothing "
                             "was exported. Run `ihl verify`.")


def _write_audit(session: Session, case: Case, target: Path,
                 checkpoint: AuditCheckpoint) -> tuple[list[list], list[list]]:
    """audit.jsonl: seq 1 to the checkpoint, the case's entries whole, the others redacted;
    checkpoints.jsonl: the checkpoint signed for the export. Returns [seq, hash] of each entry
    of the case, and of each redacted one."""
    sealed, redacted = [], []
    with open(target / "audit.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for entry in audit.iter_entries(session):
            if entry["seq"] > checkpoint.seq:
                break
            if entry["case_ref"] == case.ref:
                sealed.append([entry["seq"], entry["hash"]])
            else:
                redacted.append([entry["seq"], entry["hash"]])
                entry = {"seq": entry["seq"], "prev_hash": entry["prev_hash"],
                         "hash": entry["hash"], "redacted": True}
            f.write(canonical_json(entry) + "\n")
    with open(target / "checkpoints.jsonl", "w", encoding="utf-8", newline="\n") as f:
        f.write(canonical_json(checkpoint_document(checkpoint)) + "\n")
    shutil.copyfile(VERIFIER, target / "verify_audit.py")
    return sealed, redacted


def _write_seal(target: Path, case: Case, checkpoint: AuditCheckpoint,
                listed: tuple[list[list], list[list]], digests: dict[str, str], key) -> None:
    """seal.json, signed: what the bag is (a case bag), its case, the checkpoint its log ends
    at, the [seq, hash] of every entry (the case's, whole; the others', redacted) and the
    record files' SHA-256. The verifier holds a bag's log to exactly this."""
    sealed, redacted = listed
    seal = {"format": SEAL_FORMAT, "kind": SEAL_KIND, "case_ref": case.ref,
            "seq": checkpoint.seq, "hash": checkpoint.hash, "entries": sealed,
            "redacted": redacted, "files": digests}
    seal.update(public_key=public_key_hex(key), signature=key.sign(seal_message(seal)).hex(),
                signed_at=audit.jsonable(utcnow()))
    _write_json(target / "seal.json", seal)
    (target / "public_key.txt").write_text(public_key_hex(key) + "\n", encoding="utf-8")


def _make_bag(target: Path, case: Case, checkpoint: AuditCheckpoint) -> None:
    """Move the payload under data/, write the sha256 manifests, and validate it all."""
    info = {
        "External-Identifier": case.ref,
        "External-Description": f"Case {case.ref} exported by ihl_docs: records, evidence "
                                "files, custody chains, qualifications, dossiers and the case's "
                                "audit entries. Check the audit entries and the records with: "
                                "python3 data/verify_audit.py data",
        "Audit-Checkpoint": f"seq {checkpoint.seq} hash {checkpoint.hash}",
        "Audit-Public-Key": checkpoint.public_key,
    }
    try:
        bagit.make_bag(str(target), bag_info=info, checksums=["sha256"])
        bagit.Bag(str(target)).validate(fast=False)
    except (bagit.BagError, OSError) as exc:
        raise BagRefused(f"The bag could not be written in {target} ({exc}); nothing was "
                         "exported.") from None
