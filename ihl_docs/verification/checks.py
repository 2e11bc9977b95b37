"""What a verification checks, for `ihl verify`, the API's /verify and verification runs.

1. Every stored file — evidence originals, their derivatives, dossier PDFs — re-hashed against
   the SHA-256 its record holds.
2. Every record against the audit log: the log is replayed, and each row of every audited kind
   (cases, members, accounts, incidents, evidence, links, custody events, qualifications,
   dossiers, verification runs, the catalogue …; each feature registers its kinds) is compared
   with the state the entries recorded. A row changed, added or removed in the database without
   the application is named by its ref and field, with the entry it differs from.
3. The audit chain recomputed from its first entry, and held against its signed checkpoints.
4. The checkpoints held against their witnesses outside the database: the checkpoint journal(s)
   and the RFC 3161 timestamp tokens.

Each problem is a `Finding` naming the evidence ref, the dossier ref, the record or the audit
seq.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from ihl_docs.core.audit.journal import Witnesses, current_witnesses
from ihl_docs.core.audit.log import verify_chain
from ihl_docs.core.audit.replay import Projection, replay
from ihl_docs.core.audit.witnesses import witness_problems
from ihl_docs.core.models import (
    AuditCheckpoint,
    AuditEntry,
    Case,
    Dossier,
    DossierStatus,
    Evidence,
    EvidenceDerivative,
    FindingKind,
)
from ihl_docs.core.storage import EvidenceStore

Progress = Callable[[str, int], None]
# The share of a run's progress bar each part takes (files dominate: they are read in full).
FILES_UNTIL, RECORDS_UNTIL = 80, 85
SEQ = re.compile(r"\bseq (\d+)")


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    subject: str   # the evidence ref, the dossier ref, or "seq N"
    message: str   # the whole problem in words, the subject named in it


@dataclass
class Report:
    """What a verification looked at and what it found."""
    files: int = 0            # evidence files and derivatives re-hashed
    bytes: int = 0            # their bytes, with the dossiers'
    dossiers: int = 0         # dossier PDFs re-hashed
    custody_events: int = 0   # custody events held against their audit entries
    records: int = 0          # records of every kind held against the log (custody included)
    audit_entries: int = 0    # audit entries recomputed (the whole chain, whatever the scope)
    checkpoints: int = 0      # signed checkpoints the chain was held against
    head: tuple[int, str] | None = None  # the last entry checked (seq, hash)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.findings]


def _quiet(_stage: str, _percent: int) -> None:
    pass


def verify(session: Session, store: EvidenceStore, *, case: Case | None = None,
           public_key: str | None = None, progress: Progress | None = None,
           kinds: list[Projection] | None = None, witnesses: Witnesses | None = None) -> Report:
    """Run every check: of everything, or of one case's files and records (the audit chain is
    always checked whole: a case's entries are links of the one chain). `kinds`: the record
    kinds to hold against the log (default: those the current application registered).
    `witnesses`: where checkpoints are witnessed (default: as the current application says)."""
    progress = progress or _quiet
    report = Report()
    progress("re-hashing stored files", 0)
    _check_files(session, store, case, report, progress)
    progress("holding every record against the audit log", FILES_UNTIL)
    _check_records(session, case, registered_kinds() if kinds is None else kinds, report)
    progress("recomputing the audit chain", RECORDS_UNTIL)
    top = session.exec(select(AuditEntry.seq, AuditEntry.hash)
                       .order_by(AuditEntry.seq.desc()).limit(1)).first()
    report.head = tuple(top) if top else None
    count, problems = verify_chain(session, public_key)
    report.audit_entries = count
    report.checkpoints = session.exec(select(func.count()).select_from(AuditCheckpoint)).one()
    for problem in problems:
        match = SEQ.search(problem)
        kind = FindingKind.checkpoint if "checkpoint" in problem else FindingKind.audit
        report.findings.append(Finding(kind, f"seq {match[1]}" if match else "", problem))
    # the checkpoints held against their witnesses outside the database (journals, timestamps)
    for problem in witness_problems(session, witnesses or current_witnesses(), public_key):
        match = SEQ.search(problem)
        report.findings.append(Finding(FindingKind.checkpoint, f"seq {match[1]}" if match else "",
                                       problem))
    progress("done", 100)
    return report


def _stored_items(session: Session, case: Case | None) -> list[tuple]:
    """(kind, ref, label, sha256, size) of every stored file in scope, in a fixed order."""
    evidence = select(Evidence.ref, Evidence.sha256, Evidence.size).where(
        Evidence.sha256.is_not(None))
    derived = (select(Evidence.ref, EvidenceDerivative.purpose, EvidenceDerivative.sha256,
                      EvidenceDerivative.size)
               .join(Evidence, Evidence.id == EvidenceDerivative.evidence_id))
    dossiers = select(Dossier.ref, Dossier.sha256, Dossier.size).where(
        Dossier.status == DossierStatus.done)
    if case is not None:
        evidence = evidence.where(Evidence.case_id == case.id)
        derived = derived.where(Evidence.case_id == case.id)
        dossiers = dossiers.where(Dossier.case_id == case.id)
    items = [(FindingKind.evidence, ref, f"evidence {ref}", sha, size)
             for ref, sha, size in session.exec(evidence.order_by(Evidence.id))]
    items += [(FindingKind.evidence, ref, f"evidence {ref} ({purpose})", sha, size)
              for ref, purpose, sha, size
              in session.exec(derived.order_by(EvidenceDerivative.id))]
    items += [(FindingKind.dossier, ref, f"dossier {ref}", sha, size)
              for ref, sha, size in session.exec(dossiers.order_by(Dossier.id))]
    signed = (select(Dossier.ref, Dossier.signed_sha256, Dossier.signed_size)
              .where(dossiers.whereclause, Dossier.signed_sha256.is_not(None)))
    items += [(FindingKind.dossier, ref, f"dossier {ref} (signed file)", sha, size)
              for ref, sha, size in session.exec(signed.order_by(Dossier.id))]
    return items


def _check_files(session: Session, store: EvidenceStore, case: Case | None, report: Report,
                 progress: Progress) -> None:
    items = _stored_items(session, case)
    total = sum(size or 0 for *_, size in items) or 1
    done = 0
    for kind, ref, label, sha256, size in items:
        found = store.hash_stored(sha256)
        if kind == FindingKind.dossier:
            report.dossiers += not label.endswith("(signed file)")  # dossiers, not files
        else:
            report.files += 1
        if found is None:
            report.findings.append(Finding(kind, ref, f"{label}: file missing (sha256 {sha256})"))
        elif found[0] != sha256:
            report.findings.append(Finding(
                kind, ref, f"{label}: file altered (recorded sha256 {sha256}, now {found[0]})"))
        elif size is not None and found[1] != size:
            report.findings.append(Finding(
                kind, ref, f"{label}: size {found[1]} differs from the recorded {size}"))
        read = found[1] if found else 0
        report.bytes += read
        done += size or read
        progress("re-hashing stored files", min(FILES_UNTIL, FILES_UNTIL * done // total))


def _check_records(session: Session, case: Case | None, kinds: list[Projection],
                   report: Report) -> None:
    """Replay the audit log and hold every record of every registered kind against it."""
    counts, differences = replay(session, kinds, case)
    report.custody_events = counts.get("custody_event", 0)
    report.records = sum(counts.values())
    report.findings += [Finding(FindingKind(d.kind), d.subject, d.message) for d in differences]


# --- the summary `ihl verify` and the API give ------------------------------------------------

def verify_files(session: Session, store: EvidenceStore) -> tuple[int, list[str]]:
    """Re-hash every stored evidence file, derivative and dossier PDF; name each one missing or
    altered by the evidence or dossier ref."""
    report = Report()
    _check_files(session, store, None, report, _quiet)
    return report.files + report.dossiers, report.problems


def verify_all(session: Session, store: EvidenceStore, *, public_key: str | None = None,
               kinds: list[Projection] | None = None, witnesses: Witnesses | None = None
               ) -> dict:
    """Every check, over everything (see `verify`): {ok, files, dossiers, custody_events,
    records, audit_entries, checkpoints, problems}. `files` counts dossier PDFs too."""
    report = verify(session, store, public_key=public_key, kinds=kinds, witnesses=witnesses)
    return {"ok": report.ok, "files": report.files + report.dossiers,
            "dossiers": report.dossiers, "custody_events": report.custody_events,
            "records": report.records,
            "audit_entries": report.audit_entries, "checkpoints": report.checkpoints,
            "problems": report.problems}


def registered_kinds() -> list[Projection]:
    """The record kinds the current application registered. Outside an application there is no
    telling which kinds exist: refused, rather than checking none and calling that intact."""
    from flask import current_app, has_app_context

    from ihl_docs.core.audit.replay import projections

    if not has_app_context():
        raise RuntimeError("Which records to hold against the audit log is not known outside "
                           "the application: pass `kinds`.")
    return projections(current_app)


def instance_public_key(key_path: str) -> str | None:
    """This instance's checkpoint key, which every checkpoint must be signed by (None: no key
    file yet, or one this process cannot read — then any validly signed checkpoint counts)."""
    from ihl_docs.core.audit.signing import existing_public_key

    try:
        return existing_public_key(key_path)
    except (OSError, ValueError):
        return None
