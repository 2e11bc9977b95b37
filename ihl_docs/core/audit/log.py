"""Writing and checking the audit log."""

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Session, select

from ihl_docs.core.audit.chain import (
    GENESIS_HASH,
    altered,
    canonical_entry_text,
    canonical_json,
    entry_hash,
    missing,
    unlinked,
)
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditEntry

# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises appends to the chain.
AUDIT_LOCK_KEY = 0x1D0C5A0D17
# Secrets never enter the log; their SHA-256 does, under `<name>_sha256`, so that a secret
# replaced in the database (a password hash an attacker knows the password of) differs from what
# the log recorded. The hashes are of salted hashes and of random tokens' hashes: they reveal
# nothing a guess could be checked against.
SECRET_FIELDS = {"password_hash", "token_hash"}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value):
    """A value as it is written into the audit log."""
    if type(value) in _PLAIN:  # most values: written as they are (checked first, for speed)
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
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
    """The audited state of a row: its columns, each secret by its SHA-256 only."""
    return snapshot_of({c.name: getattr(row, c.name) for c in row.__table__.columns})


def snapshot_of(values: dict) -> dict:
    """The audited state of a row given as column -> value (what `snapshot` records)."""
    state = {}
    for name, value in values.items():
        if name in SECRET_FIELDS:
            state[f"{name}_sha256"] = (None if value is None else
                                       hashlib.sha256(str(value).encode("utf-8")).hexdigest())
        else:
            state[name] = jsonable(value)
    return state


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


def record_many(session: Session, changes: list[dict], *, actor: str) -> int:
    """Append one entry per item of `changes` (each: action, entity, entity_id, before, after,
    optionally case_ref), in order, in the caller's transaction: one look at the chain's head and
    one flush for all, so that loading a data file of a thousand records stays quick. The entries
    are exactly those `record` would write one by one."""
    if not changes:
        return 0
    _lock_chain(session)
    head_entry = session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = head_entry.seq if head_entry else 0
    prev_hash = head_entry.hash if head_entry else GENESIS_HASH
    entries = []
    for item in changes:
        seq += 1
        change = {"before": jsonable(item.get("before")), "after": jsonable(item.get("after"))}
        fields = {"seq": seq, "occurred_at": jsonable(utcnow()), "actor": actor,
                  "action": item["action"], "entity": item["entity"],
                  "entity_id": str(item["entity_id"]), "case_ref": item.get("case_ref"),
                  "change": change, "prev_hash": prev_hash}
        prev_hash = entry_hash(fields)
        entry = AuditEntry(**{**fields, "occurred_at": datetime.fromisoformat(fields["occurred_at"])},
                           hash=prev_hash)
        entry.change = canonical_json(change)
        entries.append(entry)
    session.add_all(entries)
    session.flush()
    return len(entries)


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
    """Every entry in seq order, read in batches, as `entry_document` writes it. A stored time
    that no longer reads as a time is given as the text stored, so that the entry's hash check
    names its seq instead of the reading failing."""
    to_datetime = _time_reader(session)
    for row in _stored_rows(session, batch):
        seq, occurred, actor, action, entity, entity_id, case_ref, change, prev_hash, digest = row
        try:
            moment = jsonable(to_datetime(occurred) if to_datetime else occurred)
        except (ValueError, TypeError, OverflowError):
            moment = str(occurred)
        yield {"seq": seq, "occurred_at": moment, "actor": actor, "action": action,
               "entity": entity, "entity_id": entity_id, "case_ref": case_ref,
               "change": _parse_change(change), "prev_hash": prev_hash, "hash": digest}


def _time_reader(session: Session):
    """What the ORM does with a stored occurred_at (None: the driver's value is taken)."""
    dialect = session.get_bind().dialect
    return (AuditEntry.__table__.c.occurred_at.type.dialect_impl(dialect)
            .result_processor(dialect, None))


def _stored_rows(session: Session, batch: int):
    """Every entry as a tuple of its stored columns, in seq order, read in batches on the
    session's connection, straight from the database driver. occurred_at comes as the database
    gives it (SQLite: text; PostgreSQL: an aware datetime)."""
    c = AuditEntry.__table__.c
    columns = (c.seq, sa.type_coerce(c.occurred_at, sa.String), c.actor, c.action, c.entity,
               c.entity_id, c.case_ref, c.change, c.prev_hash, c.hash)
    statement = (select(*columns).where(c.seq > sa.bindparam("last")).order_by(c.seq)
                 .limit(batch))
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    cursor = connection.connection.cursor()
    try:
        last = 0
        while True:
            params = compiled.construct_params({"last": last})
            if compiled.positional:
                params = tuple(params[name] for name in compiled.positiontup)
            cursor.execute(str(compiled), params)
            rows = cursor.fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]
    finally:
        cursor.close()


def _occurred_text(value) -> str | None:
    """occurred_at as entry_document writes it, straight from what the database gave."""
    if type(value) is str:  # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff"
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}+00:00"
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return jsonable(value)
    return None


def verify_stored_entries(session: Session, batch: int = 20000):
    """verify_entries(iter_entries(session)), with the same result, in a fraction of the time:
    (count, problem) where problem is (seq, message) of the first break, or None.

    Every entry's hash is recomputed from its stored columns, read as tuples. The canonical text
    is built around the stored `change` text, which the log writes canonical; an entry whose hash
    does not match that way is checked again exactly as `entry_document` reads it (change parsed
    and written canonical again, occurred_at through the column type) before it is reported."""
    to_datetime = _time_reader(session)
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    sha256 = hashlib.sha256
    for row in _stored_rows(session, batch):
        seq, occurred, actor, action, entity, entity_id, case_ref, change, prev_hash, digest = row
        if seq != expected_seq:
            return count, missing(expected_seq, seq)
        if prev_hash != prev:
            return count, unlinked(seq)
        occurred_text = _occurred_text(occurred)
        text = occurred_text and canonical_entry_text(seq, occurred_text, actor, action, entity,
                                                      entity_id, case_ref, change, prev_hash)
        if text is None or sha256(text.encode("utf-8")).hexdigest() != digest:
            try:
                moment = to_datetime(occurred) if to_datetime else occurred
            except (ValueError, TypeError, OverflowError):  # text edited into no time at all
                return count, (seq, f"audit seq {seq}: its stored time cannot be read "
                                    f"({str(occurred)[:40]!r}): the entry was altered")
            document = {
                "seq": seq,
                "occurred_at": jsonable(moment),
                "actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
                "case_ref": case_ref, "change": _parse_change(change), "prev_hash": prev_hash,
            }
            if entry_hash(document) != digest:
                return count, altered(seq)
        prev = digest
        expected_seq += 1
        count += 1
    return count, None


def verify_chain(session: Session, public_key: str | None = None) -> tuple[int, list[str]]:
    """Recompute the chain and hold it against the signed checkpoints; return how many entries
    held and the problems found (the chain's first break, then each checkpoint problem).
    With `public_key` (hex), a checkpoint signed by another key is a problem too."""
    from ihl_docs.core.audit.checkpoints import verify_against_checkpoints

    count, problem = verify_stored_entries(session)
    problems = [problem[1]] if problem else []
    return count, problems + verify_against_checkpoints(session, public_key)


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
