"""Reading a case bag: validate it whole, check its audit entries, restore the case as exported.

Nothing is changed until the bag has matched its manifests and its audit entries, checkpoint and
seal have verified. Files go into the evidence store first (each re-hashed as it is stored),
then every record is created in one transaction, with an audit entry per record.
"""

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ihl_docs.bags import FILES_DIR, FORMAT, SEAL_FORMAT, BagRefused
from ihl_docs.bags.records import files_of
from ihl_docs.core.audit import verify_audit
from ihl_docs.core.case_records import RecordPart, Restoring
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.storage import CHUNK, EvidenceStore

IMPORT_ACTOR = "ihl import"
SHOWN_DIFFERENCES = 5


@dataclass
class CaseBag:
    """A bag that validated, with its records read."""

    path: Path
    records: dict
    checkpoint: dict
    public_key: str
    parts: list[RecordPart]

    @property
    def case_ref(self) -> str:
        return self.records["case.json"]["case"]["ref"]

    def files(self) -> list[str]:
        try:
            return files_of(self.records, self.parts)
        except (KeyError, TypeError):
            raise BagRefused("The bag's records are malformed (a file reference); nothing was "
                             "imported.") from None

    def file_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise BagRefused(f"The bag's records name a file {sha256!r}, which is not a SHA-256.")
        return self.path / "data" / FILES_DIR / sha256


@dataclass
class ImportResult:
    case_ref: str
    counts: dict = field(default_factory=dict)
    unknown_members: list[str] = field(default_factory=list)
    audit_entries: int = 0


# ---- the bag ------------------------------------------------------------------------------------

def open_bag(path: str | os.PathLike, *, parts: list[RecordPart],
             public_key: str | None = None) -> CaseBag:
    """Validate the bag against its manifests (every file re-hashed), then its audit entries,
    checkpoint and seal, and read its records (one file per part); refused, naming what is
    wrong, otherwise. `public_key` (hex): accept only a bag signed with that key, not just the
    one it names."""
    path = Path(path)
    _validated(path)
    data = str(path / "data")
    try:
        entries = verify_audit.read_jsonl(f"{data}/audit.jsonl")
        checkpoints = verify_audit.read_jsonl(f"{data}/checkpoints.jsonl")
        seal = verify_audit.read_optional_json(f"{data}/seal.json")
        named_key = verify_audit.read_public_key(data)
    except verify_audit.Unreadable as exc:
        raise BagRefused(f"The bag's audit entries cannot be read ({exc}).") from None
    public_key = public_key.strip().lower() if public_key else named_key
    if seal is None or seal.get("format") != SEAL_FORMAT or not checkpoints or not named_key:
        raise BagRefused(f"{path} is a bag, but not a case export of ihl_docs (it lacks the "
                         "case seal, checkpoint or public key).")
    problems = verify_audit.problems_in(entries, checkpoints, public_key, seal, data)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise BagRefused(f"The bag does not verify against its signed checkpoint and seal: "
                         f"{problems[0]}{more}. Nothing was imported.")
    records = _read_records(path, seal, [part.name for part in parts])
    checkpoint = max(checkpoints, key=lambda c: c["seq"] if isinstance(c.get("seq"), int) else 0)
    return CaseBag(path, records, checkpoint, public_key, parts)


def _validated(path: Path) -> None:
    if not (path / "bagit.txt").is_file():
        raise BagRefused(f"{path} is not a BagIt bag (it has no bagit.txt).")
    try:
        bag = bagit.Bag(str(path))
        bag.validate(fast=False)
    except bagit.BagValidationError as exc:
        differences = [_difference(d) for d in exc.details] or _differences(bag)
        if not differences:
            raise BagRefused(f"The bag is not valid ({exc.message}). Nothing was "
                             "imported.") from None
        shown = "; ".join(differences[:SHOWN_DIFFERENCES])
        more = len(differences) - SHOWN_DIFFERENCES
        raise BagRefused(f"The bag does not match its manifest: {shown}"
                         + (f"; and {more} more" if more > 0 else "")
                         + ". Nothing was imported.") from None
    except bagit.BagError as exc:
        raise BagRefused(f"{path} is not a valid BagIt bag ({exc}).") from None


def _difference(detail) -> str:
    if isinstance(detail, bagit.ChecksumMismatch):
        return f"{detail.path} has a different {detail.algorithm}"
    if isinstance(detail, bagit.FileMissing):
        return f"{detail.path} is listed in the manifest but missing"
    if isinstance(detail, bagit.UnexpectedFile):
        return f"{detail.path} is not listed in the manifest"
    return str(detail)


def _differences(bag: bagit.Bag) -> list[str]:
    """What differs, file by file, when bagit stopped at the payload's count and size."""
    only_listed, only_found = bag.compare_manifests_with_fs()
    found = [f"{p} is listed in the manifest but missing" for p in sorted(only_listed)]
    found += [f"{p} is not listed in the manifest" for p in sorted(only_found)]
    for name, hashes in sorted(bag.entries.items()):
        file = Path(bag.path) / name
        if name in only_listed or not file.is_file():
            continue
        for algorithm, expected in hashes.items():
            if algorithm in hashlib.algorithms_guaranteed and _hash(file, algorithm) != expected:
                found.append(f"{name} has a different {algorithm}")
    return found


def _hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_records(path: Path, seal: dict, names: list[str]) -> dict:
    records = {}
    for name in names:
        try:
            records[name] = json.loads((path / "data" / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BagRefused(f"The bag's data/{name} is missing or not JSON.") from None
    case = records["case.json"]
    if not isinstance(case, dict) or case.get("format") != FORMAT:
        raise BagRefused(f"The bag's data/case.json is not a case export ({FORMAT}).")
    if sorted(seal.get("files") or {}) != sorted(names) or \
            case.get("case", {}).get("ref") != seal.get("case_ref"):
        raise BagRefused("The bag's case seal does not cover its records; nothing was imported.")
    return records


# ---- before anything is changed -----------------------------------------------------------------

def check_importable(session: Session, bag: CaseBag) -> None:
    """Refuse what a part cannot import here: a case ref already here, provisions this
    catalogue lacks (by key) …"""
    for part in bag.parts:
        reason = part.refusal(session, bag.records[part.name])
        if reason:
            raise BagRefused(reason)


def store_files(store: EvidenceStore, bag: CaseBag) -> int:
    """Put every file the records name into the store, each hashed as it is stored; returns how
    many. Files are content-addressed and shared, so ones stored by an import that then fails
    stay, unreferenced and harmless."""
    names = bag.files()
    for sha256 in names:
        source = bag.file_path(sha256)
        with store.incoming() as incoming:
            try:
                with open(source, "rb") as f:
                    while chunk := f.read(CHUNK):
                        incoming.write(chunk)
                if incoming.sha256 != sha256:
                    raise BagRefused(f"data/{FILES_DIR}/{sha256} has a different sha256 than its "
                                     "name; nothing was imported.")
                store.keep(incoming)
            except FileNotFoundError:
                raise BagRefused(f"The bag lacks data/{FILES_DIR}/{sha256}, which its records "
                                 "name; nothing was imported.") from None
            except OSError as exc:
                raise BagRefused(f"data/{FILES_DIR}/{sha256} could not be put into the evidence "
                                 f"store ({exc.strerror or exc}); nothing was imported.") from None
    return len(names)


# ---- the records --------------------------------------------------------------------------------

def _restore(session: Session, bag: CaseBag, actor: str) -> ImportResult:
    """Each part's records, in the order the parts were registered (the case first)."""
    source = {"bag": os.path.abspath(bag.path), "public_key": bag.public_key,
              "checkpoint_seq": bag.checkpoint.get("seq"),
              "checkpoint_hash": bag.checkpoint.get("hash")}
    restoring = Restoring(session, actor, source)
    for part in bag.parts:
        try:
            part.restore(restoring, bag.records[part.name])
        except InvalidInput as exc:
            raise BagRefused(exc.message) from None
    return ImportResult(bag.case_ref, restoring.counts, restoring.unknown_members,
                        restoring.audit_entries)


def import_case(session: Session, store: EvidenceStore, bag: CaseBag, *,
                actor: str = IMPORT_ACTOR) -> ImportResult:
    """Create the bag's case with every record as exported (same refs, hashes and custody
    chains; people matched by e-mail), an `import` audit entry per record; flushes, never
    commits. The files must already be in the store (store_files)."""
    check_importable(session, bag)
    missing = [sha256 for sha256 in bag.files() if not store.exists(sha256)]
    if missing:
        raise BagRefused(f"The file {missing[0]} is not in the evidence store; store the bag's "
                         "files first. Nothing was imported.")
    try:
        return _restore(session, bag, actor)
    except IntegrityError:
        raise BagRefused(f"A record of case {bag.case_ref} clashes with one already here (a "
                         "ref in use); nothing was imported.") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BagRefused(f"The bag's records are malformed ({exc.__class__.__name__}: {exc}); "
                         "nothing was imported.") from None
