"""Writing and checking the audit log."""

import json
from datetime import date, datetime, timezone
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Session, select

from ..dbtypes import utcnow
from ..models import AuditEntry
from .chain import GENESIS_HASH, canonical_json, entry_hash, verify_entries

# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises appends to the chain.
AUDIT_LOCK_KEY = 0x1D0C5A0D17
SECRET_FIELDS = {"password_hash", "token_hash"}


def jsonable(value):
    """A value as it is written into the audit log."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def snapshot(row) -> dict:
    """The audited state of a row: its columns, secrets left out."""
    table = row.__table__
    return {
        c.name: jsonable(getattr(row, c.name))
        for c in table.columns
        if c.name not in SECRET_FIELDS
    }


def changed_fields(before: dict | None, after: dict | None) -> dict:
    """Field -> (old, new) for the fields that differ."""
    before, after = before or {}, after or {}
    keys = [k for k in after if before.get(k) != after.get(k)]
    keys += [k for k in before if k not in after]
    return {k: (before.get(k), after.get(k)) for k in keys}


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=AUDIT_LOCK_KEY))
    # SQLite: the writing session began with BEGIN IMMEDIATE (see db.open_session).


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    case_ref: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction."""
    _lock_chain(session)
    head = session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = head.seq + 1 if head else 1
    prev_hash = head.hash if head else GENESIS_HASH
    change = {"before": jsonable(before), "after": jsonable(after)}
    fields = {
        "seq": seq,
        "occurred_at": jsonable(utcnow()),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "case_ref": case_ref,
        "change": change,
        "prev_hash": prev_hash,
    }
    digest = entry_hash(fields)
    entry = AuditEntry(
        **{**fields, "occurred_at": datetime.fromisoformat(fields["occurred_at"])},
        hash=digest,
    )
    entry.change = canonical_json(change)
    session.add(entry)
    session.flush()
    return entry


def entry_document(entry: AuditEntry) -> dict:
    """The flat JSON object of an entry, as hashed and as exported."""
    return {
        "seq": entry.seq,
        "occurred_at": jsonable(entry.occurred_at),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "case_ref": entry.case_ref,
        "change": _parse_change(entry.change),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _parse_change(text: str):
    try:
        return json.loads(text)
    except ValueError:  # an edited row: keep the text, so its hash check names the seq
        return text


def iter_entries(session: Session, batch: int = 5000):
    """Every entry in seq order, read in batches."""
    last = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
            .execution_options(populate_existing=True)  # what is stored now, not a cached row
        ).all()
        if not rows:
            return
        for row in rows:
            yield entry_document(row)
        last = rows[-1].seq


def verify_chain(session: Session) -> tuple[int, list[str]]:
    """Recompute the chain; return how many entries held and the problems found (first break)."""
    count, problem = verify_entries(iter_entries(session))
    return count, [problem[1]] if problem else []


def head(session: Session) -> AuditEntry | None:
    return session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def changes_since(session: Session, entity: str, entity_id: str, version: int) -> list[dict]:
    """What others changed in a record after `version`: one item per field, from the audit log."""
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.seq)
    ).all()
    changes = []
    for entry in entries:
        doc = entry_document(entry)["change"]
        after = doc.get("after") or {}
        if not isinstance(after.get("version"), int) or after["version"] <= version:
            continue
        for field, (old, new) in changed_fields(doc.get("before"), after).items():
            if field in {"version", "updated_at"}:
                continue
            changes.append({"field": field, "from": old, "to": new, "by": entry.actor,
                            "at": jsonable(entry.occurred_at)})
    return changes
