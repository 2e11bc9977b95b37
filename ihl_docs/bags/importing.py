"""Reading a case bag: validate it whole, check its audit entries, restore the case as exported.

Nothing is changed until the bag has matched its manifests and its audit entries, checkpoint and
seal have verified, signed with the key the importer gave (or, if told to, the bag's own). The
bag's payload must be regular files, each with no other hard link (a symbolic link could pull in
a file from outside the bag, another case's included; a hard link could be one), every record
ref must be one of the bag's case, and the record files must be strict JSON within the limits
of verify_audit (MAX_FILE bytes, MAX_DEPTH levels). Files go into the evidence store first
(each re-hashed as it is stored), then every record is created in one transaction, with an
audit entry per record.
"""

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ihl_docs.bags import FILES_DIR, FORMAT, BagRefused
from ihl_docs.bags.records import files_of
from ihl_docs.core.audit import verify_audit
from ihl_docs.core.case_records import RecordPart, Restoring
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import CASE_REF_PATTERN
from ihl_docs.core.storage import CHUNK, EvidenceStore

IMPORT_ACTOR = "ihl import"
GIVEN_KEY = "given key (--public-key)"
BAGS_OWN_KEY = "the bag's own key (--trust-bag-key)"
SHOWN_DIFFERENCES = 5


@dataclass
class CaseBag:
    """A bag that validated, with its records read."""

    path: Path
    records: dict
    checkpoint: dict
    public_key: str
    parts: list[RecordPart]
    trusted: str = GIVEN_KEY  # how the key was chosen, for the audit entry

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
    authors: list[str] = field(default_factory=list)  # named by the bag, recorded as at source
    withheld_members: list[str] = field(default_factory=list)  # --trust-bag-key: not added


# ---- the bag ------------------------------------------------------------------------------------

def open_bag(path: str | os.PathLike, *, parts: list[RecordPart],
             public_key: str | None = None, trust_bag_key: bool = False) -> CaseBag:
    """Validate the bag against its manifests (every file re-hashed), then its audit entries,
    checkpoint and seal, and read its records (one file per part); refused, naming what is
    wrong, otherwise. `public_key` (hex): accept only a bag signed with that key; without it,
    `trust_bag_key` must say to accept the key the bag names (anyone can sign with their own)."""
    path, given = Path(path), public_key
    if not public_key and not trust_bag_key:
        raise BagRefused("Give the exporting instance's public key (--public-key), or say "
                         "--trust-bag-key to accept whatever key the bag names.")
    _validated(path)
    data = str(path / "data")
    try:
        entries, checkpoints, seal, marker = verify_audit.read_export(data, [])
        named_key = verify_audit.read_public_key(data)
    except verify_audit.Unreadable as exc:
        raise BagRefused(f"The bag's audit entries cannot be read ({exc}). Nothing was "
                         "imported.") from None
    if seal is None or not checkpoints or not named_key:
        raise BagRefused(f"{path} is a bag, but not a case export of ihl_docs (it lacks the "
                         "case seal, checkpoint or public key).")
    public_key = public_key.strip().lower() if public_key else named_key
    problems = verify_audit.problems_in(entries, checkpoints, public_key, seal, data,
                                        cover=True, marker=marker)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise BagRefused(f"The bag does not verify against its signed checkpoint and seal: "
                         f"{problems[0]}{more}. Nothing was imported.")
    records = _read_records(path, seal, [part.name for part in parts])
    checkpoint = max(checkpoints, key=lambda c: c["seq"])
    trusted = GIVEN_KEY if given else BAGS_OWN_KEY
    return CaseBag(path, records, checkpoint, public_key, parts, trusted)


def _validated(path: Path) -> None:
    if not (path / "bagit.txt").is_file():
        raise BagRefused(f"{path} is not a BagIt bag (it has no bagit.txt).")
    _only_regular_files(path)
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


def _only_regular_files(path: Path) -> None:
    """Refuse a bag holding anything but folders and regular files with one link each: a
    symbolic link (which bagit's check of paths lets through when it points inside the bag's
    folder name, and which could name any file here, another case's stored evidence included),
    a file with other hard links (it could be that file, and the bag's writer never makes one),
    a device or a FIFO (reading it could hang or read what is not the bag's)."""
    for folder, dirs, files in os.walk(path, followlinks=False):
        for name in sorted(dirs + files):
            full = os.path.join(folder, name)
            what = _not_regular(os.lstat(full), is_dir=name in dirs)
            if what:
                raise BagRefused(f"The bag's {os.path.relpath(full, path)} is {what}; a bag "
                                 "holds only folders and regular files. Nothing was imported.")


def _not_regular(info: os.stat_result, *, is_dir: bool) -> str | None:
    """What keeps a payload entry from being a plain folder or regular file, or None."""
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if is_dir and stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, FIFO or socket)"
    if info.st_nlink > 1:
        return f"a file with {info.st_nlink - 1} other hard link(s)"
    return None


def open_payload(path: Path):
    """The bag's file at `path` opened for reading, refused if it is (or has become) anything
    but a regular file with one link; never follows a symbolic link (O_NOFOLLOW)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BagRefused(f"The bag's {path.name} is a symbolic link; nothing was "
                             "imported.") from None
        raise
    what = _not_regular(os.fstat(fd), is_dir=False)
    if what:
        os.close(fd)
        raise BagRefused(f"The bag's {path.name} is {what}; nothing was imported.")
    return os.fdopen(fd, "rb")


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
            records[name] = verify_audit.read_json(str(path / "data" / name), f"data/{name}")
        except verify_audit.Unreadable as exc:
            raise BagRefused(f"The bag's records cannot be read ({exc}); nothing was "
                             "imported.") from None
        if records[name] is None:
            raise BagRefused(f"The bag's data/{name} is missing; nothing was imported.")
    case = records["case.json"]
    if not isinstance(case, dict) or case.get("format") != FORMAT or \
            not isinstance(case.get("case"), dict):
        raise BagRefused(f"The bag's data/case.json is not a case export ({FORMAT}).")
    if sorted(seal.get("files") or {}) != sorted(names) or \
            case.get("case", {}).get("ref") != seal.get("case_ref"):
        raise BagRefused("The bag's case seal does not cover its records; nothing was imported.")
    return records


# ---- before anything is changed -----------------------------------------------------------------

REF_FORMS = {"incident": ("I", "incident_counter"), "evidence": ("E", "evidence_counter"),
             "dossier": ("D", "dossier_counter")}  # as the services number a case's records


def foreign_ref(bag: CaseBag) -> str | None:
    """Why a ref in the bag is not one the bag's case could hold, or None. Refs are the case's
    ref, a letter and the record's number within the case (NK-2020-001-E0004); the case's
    counter must have reached that number, or the case's next record here would clash."""
    case = bag.records["case.json"]["case"]
    case_ref = case["ref"]
    if not isinstance(case_ref, str) or not re.fullmatch(CASE_REF_PATTERN, case_ref):
        return f"The bag's case ref {str(case_ref)[:60]!r} is not a case ref; nothing was imported."
    for part in bag.parts:
        try:
            named = list(part.refs(bag.records[part.name]))
        except (KeyError, TypeError, AttributeError):
            return f"The bag's {part.name} is malformed (a ref); nothing was imported."
        for kind, ref in named:
            letter, counter = REF_FORMS[kind]
            form = re.fullmatch(re.escape(case_ref) + "-" + letter + "([0-9]{1,9})",
                                ref if isinstance(ref, str) else "")
            if form is None:
                return (f"The bag's {part.name} names {kind} {str(ref)[:80]}, which is not a "
                        f"ref of case {case_ref} ({case_ref}-{letter}…); nothing was imported.")
            if not isinstance(case.get(counter), int) or int(form.group(1)) > case[counter]:
                return (f"The bag's {part.name} names {kind} {ref}, beyond the case's count of "
                        f"{kind} records ({counter} {case.get(counter)!r}); nothing was "
                        "imported.")
    return None


def check_importable(session: Session, bag: CaseBag) -> None:
    """Refuse a ref that is not of the bag's case, and what a part cannot import here: a case
    ref already here, provisions this catalogue lacks (by key) …"""
    reason = foreign_ref(bag)
    if reason:
        raise BagRefused(reason)
    for part in bag.parts:
        try:
            reason = part.refusal(session, bag.records[part.name])
        except (KeyError, TypeError, AttributeError, ValueError):
            reason = f"The bag's {part.name} is malformed; nothing was imported."
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
                with open_payload(source) as f:
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
              "key_trusted": bag.trusted, "checkpoint_seq": bag.checkpoint.get("seq"),
              "checkpoint_hash": bag.checkpoint.get("hash")}
    restoring = Restoring(session, actor, source, vouched=bag.trusted == GIVEN_KEY)
    for part in bag.parts:
        try:
            part.restore(restoring, bag.records[part.name])
        except InvalidInput as exc:
            raise BagRefused(exc.message) from None
    return ImportResult(bag.case_ref, restoring.counts, restoring.unknown_members,
                        restoring.audit_entries, sorted(restoring.authors),
                        restoring.withheld_members)


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
