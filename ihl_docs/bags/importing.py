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
from sqlmodel import Session, select

from ihl_docs.bags import FILES_DIR, FORMAT, RECORD_FILES, SEAL_FORMAT, BagRefused
from ihl_docs.bags.records import FINISHED, files_of, row_values
from ihl_docs.cases.services import case_snapshot
from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit import verify_audit
from ihl_docs.core.models import (
    Case,
    CaseMember,
    CustodyEvent,
    Dossier,
    ElementEvidence,
    ElementFinding,
    Evidence,
    EvidenceDerivative,
    Incident,
    IncidentEvidence,
    Party,
    Provision,
    Qualification,
    User,
)
from ihl_docs.core.storage import CHUNK, EvidenceStore
from ihl_docs.dossiers.services import audited
from ihl_docs.incidents.services import incident_snapshot
from ihl_docs.qualifications.services import qualification_snapshot

IMPORT_ACTOR = "ihl import"
SHOWN_DIFFERENCES = 5


@dataclass
class CaseBag:
    """A bag that validated, with its records read."""

    path: Path
    records: dict
    checkpoint: dict
    public_key: str

    @property
    def case_ref(self) -> str:
        return self.records["case.json"]["case"]["ref"]

    def files(self) -> list[str]:
        try:
            return files_of(self.records)
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

def open_bag(path: str | os.PathLike, *, public_key: str | None = None) -> CaseBag:
    """Validate the bag against its manifests (every file re-hashed), then its audit entries,
    checkpoint and seal, and read its records; refused, naming what is wrong, otherwise.
    `public_key` (hex): accept only a bag signed with that key, not just the one it names."""
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
    records = _read_records(path, seal)
    checkpoint = max(checkpoints, key=lambda c: c["seq"] if isinstance(c.get("seq"), int) else 0)
    return CaseBag(path, records, checkpoint, public_key)


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


def _read_records(path: Path, seal: dict) -> dict:
    records = {}
    for name in RECORD_FILES:
        try:
            records[name] = json.loads((path / "data" / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BagRefused(f"The bag's data/{name} is missing or not JSON.") from None
    case = records["case.json"]
    if not isinstance(case, dict) or case.get("format") != FORMAT:
        raise BagRefused(f"The bag's data/case.json is not a case export ({FORMAT}).")
    if sorted(seal.get("files") or {}) != sorted(RECORD_FILES) or \
            case.get("case", {}).get("ref") != seal.get("case_ref"):
        raise BagRefused("The bag's case seal does not cover its records; nothing was imported.")
    return records


# ---- before anything is changed -----------------------------------------------------------------

def check_importable(session: Session, bag: CaseBag) -> None:
    """Refuse a case ref already here, and provisions this catalogue lacks (by key)."""
    if session.exec(select(Case.id).where(Case.ref == bag.case_ref)).first() is not None:
        raise BagRefused(f"A case {bag.case_ref} already exists here; nothing was imported.")
    keys = sorted({q["provision_key"] for q in bag.records["qualifications.json"]})
    known = set(session.exec(select(Provision.key).where(Provision.key.in_(keys))).all())
    lacking = [key for key in keys if key not in known]
    if lacking:
        raise BagRefused(f"The legal catalogue here lacks provision(s) {', '.join(lacking)}, "
                         "cited by the case's qualifications; load them first (ihl provisions "
                         "import). Nothing was imported.")


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

class _Importer:
    """Creates the records of one bag in one session, an audit entry for each."""

    def __init__(self, session: Session, bag: CaseBag, actor: str):
        self.session, self.bag, self.actor = session, bag, actor
        self.users = {u.email: u for u in session.exec(select(User))}
        self.result = ImportResult(bag.case_ref)
        self.incidents: dict[str, Incident] = {}
        self.items: dict[str, Evidence] = {}

    def user_id(self, email: str | None) -> int | None:
        user = self.users.get(email) if email else None
        return user.id if user else None

    def record(self, entity: str, entity_id: str, after: dict) -> None:
        audit.record(self.session, actor=self.actor, action="import", entity=entity,
                     entity_id=entity_id, case_ref=self.case.ref, after=after)
        self.result.audit_entries += 1

    def count(self, what: str, n: int = 1) -> None:
        self.result.counts[what] = self.result.counts.get(what, 0) + n

    def run(self) -> ImportResult:
        self.case_and_members()
        for data in self.bag.records["incidents.json"]:
            self.incident(data)
        for data in self.bag.records["evidence.json"]:
            self.item(data)
        self.parents()
        for data in self.bag.records["evidence.json"]:
            self.links_and_custody(data)
        for data in self.bag.records["qualifications.json"]:
            self.qualification(data)
        for data in self.bag.records["dossiers.json"]:
            self.dossier(data)
        return self.result

    def case_and_members(self) -> None:
        records = self.bag.records["case.json"]
        data = records["case"]
        self.case = Case(**row_values(Case, data, "id", "created_by_id"),
                         created_by_id=self.user_id(data.get("created_by")))
        self.session.add(self.case)
        self.session.flush()
        for party in records["parties"]:
            self.session.add(Party(**row_values(Party, party, "id", "case_id"),
                                   case_id=self.case.id))
        self.session.flush()
        source = {"bag": os.path.abspath(self.bag.path), "public_key": self.bag.public_key,
                  "checkpoint_seq": self.bag.checkpoint.get("seq"),
                  "checkpoint_hash": self.bag.checkpoint.get("hash")}
        self.record("case", self.case.ref,
                    {**case_snapshot(self.session, self.case), "imported_from": source})
        for member in records["members"]:
            user = self.users.get(member["email"])
            if user is None:
                self.result.unknown_members.append(member["email"])
                continue
            self.session.add(CaseMember(**row_values(CaseMember, member, "case_id", "user_id",
                                                     "added_by_id"),
                                        case_id=self.case.id, user_id=user.id,
                                        added_by_id=self.user_id(member.get("added_by"))))
            self.session.flush()
            self.record("case_member", f"{self.case.ref}:{user.email}",
                        {"case": self.case.ref, "user": user.email, "role": user.role})
            self.count("members")

    def incident(self, data: dict) -> None:
        parties = {p.name: p.id for p in self.session.exec(
            select(Party).where(Party.case_id == self.case.id))}
        incident = Incident(**row_values(Incident, data, "id", "case_id", "responsible_party_id",
                                         "created_by_id"),
                            case_id=self.case.id,
                            responsible_party_id=parties.get(data.get("responsible_party")),
                            created_by_id=self.user_id(data.get("created_by")))
        self.session.add(incident)
        self.session.flush()
        self.incidents[incident.ref] = incident
        self.record("incident", incident.ref, incident_snapshot(self.session, incident))
        self.count("incidents")

    def item(self, data: dict) -> None:
        item = Evidence(**row_values(Evidence, data, "id", "case_id", "parent_id",
                                     "created_by_id"),
                        case_id=self.case.id, created_by_id=self.user_id(data.get("created_by")))
        self.session.add(item)
        self.session.flush()
        for derivative in data["derivatives"]:
            self.session.add(EvidenceDerivative(**row_values(EvidenceDerivative, derivative, "id",
                                                             "evidence_id"),
                                                evidence_id=item.id))
        self.session.flush()
        self.items[item.ref] = item
        self.record("evidence", item.ref,
                    {**audit.snapshot(item), "derivatives": data["derivatives"]})
        self.count("evidence items")

    def parents(self) -> None:
        for data in self.bag.records["evidence.json"]:
            if data.get("parent_ref") in self.items:
                item = self.items[data["ref"]]
                item.parent_id = self.items[data["parent_ref"]].id
                self.session.add(item)
        self.session.flush()

    def links_and_custody(self, data: dict) -> None:
        item = self.items[data["ref"]]
        for link in data["incidents"]:
            incident = self.incidents[link["incident"]]
            self.session.add(IncidentEvidence(
                **row_values(IncidentEvidence, link, "incident_id", "evidence_id", "linked_by_id"),
                incident_id=incident.id, evidence_id=item.id,
                linked_by_id=self.user_id(link.get("linked_by"))))
            self.session.flush()
            self.record("incident_evidence", f"{incident.ref}:{item.ref}",
                        {"incident": incident.ref, "evidence": item.ref,
                         "relevance": link["relevance"]})
            self.count("incident links")
        for event in data["custody"]:  # in the order exported: ids keep ties in order
            row = CustodyEvent(**row_values(CustodyEvent, event, "id", "evidence_id"),
                               evidence_id=item.id)
            self.session.add(row)
            self.session.flush()
            self.record("custody_event", f"{item.ref}#{row.id}", audit.snapshot(row))
            self.count("custody events")

    def qualification(self, data: dict) -> None:
        provision = self.session.exec(select(Provision).where(
            Provision.key == data["provision_key"])).one()
        qualification = Qualification(
            **row_values(Qualification, data, "id", "incident_id", "provision_id",
                         "created_by_id"),
            incident_id=self.incidents[data["incident"]].id, provision_id=provision.id,
            created_by_id=self.user_id(data.get("created_by")))
        self.session.add(qualification)
        self.session.flush()
        for finding_data in data["findings"]:
            finding = ElementFinding(**row_values(ElementFinding, finding_data, "id",
                                                  "qualification_id"),
                                     qualification_id=qualification.id)
            self.session.add(finding)
            self.session.flush()
            for cited in finding_data["evidence"]:
                self.session.add(ElementEvidence(finding_id=finding.id,
                                                 evidence_id=self.items[cited["ref"]].id,
                                                 stance=cited["stance"]))
        self.session.flush()
        self.record("qualification", str(qualification.id),
                    qualification_snapshot(self.session, qualification))
        self.count("qualifications")

    def dossier(self, data: dict) -> None:
        if data.get("status") not in FINISHED:
            raise BagRefused(f"Dossier {data.get('ref')} in the bag is not finished; only done "
                             "and failed dossiers are imported.")
        dossier = Dossier(**row_values(Dossier, data, "id", "case_id", "requested_by_id"),
                          case_id=self.case.id,
                          requested_by_id=self.user_id(data.get("requested_by")))
        self.session.add(dossier)
        self.session.flush()
        self.record("dossier", dossier.ref, audited(dossier))
        self.count("dossiers")


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
        return _Importer(session, bag, actor).run()
    except IntegrityError:
        raise BagRefused(f"A record of case {bag.case_ref} clashes with one already here (a "
                         "ref in use); nothing was imported.") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BagRefused(f"The bag's records are malformed ({exc.__class__.__name__}: {exc}); "
                         "nothing was imported.") from None
