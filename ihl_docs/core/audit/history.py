"""Reading the audit log: filtered pages of entries, entries after a seq, one record's history."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from ihl_docs.core.audit.log import changed_fields, entry_document
from ihl_docs.core.models import AuditEntry


@dataclass
class AuditFilter:
    case_ref: str | None = None
    actor: str | None = None
    entity: str | None = None
    action: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    newest_first: bool = True


def _where(flt: AuditFilter) -> list:
    conditions = [column == value for column, value in (
        (AuditEntry.case_ref, flt.case_ref), (AuditEntry.actor, flt.actor),
        (AuditEntry.entity, flt.entity), (AuditEntry.action, flt.action)) if value]
    if flt.time_from:
        conditions.append(AuditEntry.occurred_at >= flt.time_from)
    if flt.time_to:
        conditions.append(AuditEntry.occurred_at <= flt.time_to)
    return conditions


def search_entries(session: Session, flt: AuditFilter, *, offset: int, limit: int
                   ) -> tuple[list[AuditEntry], int]:
    """One page of the entries that match, and how many match in all."""
    conditions = _where(flt)
    total = session.exec(select(sa.func.count()).select_from(AuditEntry).where(*conditions)).one()
    order = AuditEntry.seq.desc() if flt.newest_first else AuditEntry.seq
    rows = session.exec(select(AuditEntry).where(*conditions).order_by(order)
                        .offset(offset).limit(limit)).all()
    return list(rows), total


def entries_after(session: Session, after: int, limit: int) -> tuple[list[dict], int]:
    """Up to `limit` flat entry documents with seq > `after`, in order, and how many there are."""
    total = session.exec(select(sa.func.count()).select_from(AuditEntry)
                         .where(AuditEntry.seq > after)).one()
    rows = session.exec(select(AuditEntry).where(AuditEntry.seq > after)
                        .order_by(AuditEntry.seq).limit(limit)).all()
    return [entry_document(row) for row in rows], total


def entry_changes(entry: AuditEntry) -> dict:
    """Field -> (old, new) for what the entry changed; {} when its change is not readable."""
    change = entry_document(entry)["change"]
    if not isinstance(change, dict):
        return {}
    before, after = change.get("before"), change.get("after")
    if not isinstance(before, (dict, type(None))) or not isinstance(after, (dict, type(None))):
        return {}
    return changed_fields(before, after)


def is_new_record(entry: AuditEntry) -> bool:
    """Whether the entry records a record coming into being (nothing before it)."""
    change = entry_document(entry)["change"]
    return isinstance(change, dict) and change.get("before") is None and bool(change.get("after"))


# Records whose entries belong in another record's history: evidence -> its custody events.
RELATED = {"evidence": [("custody_event", "#")], "incident": [("incident_evidence", ":")],
           "case": [("case_member", ":")]}


def history(session: Session, entity: str, entity_id: str, *, related: bool = False
            ) -> list[tuple[AuditEntry, dict]]:
    """A record's entries, oldest first, each with the fields it changed (old, new); with
    `related`, also those of the records that belong to it (an item's custody events)."""
    match = sa.and_(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
    if related:
        match = sa.or_(match, *(
            sa.and_(AuditEntry.entity == other,
                    AuditEntry.entity_id.startswith(entity_id + sep, autoescape=True))
            for other, sep in RELATED.get(entity, [])))
    entries = session.exec(select(AuditEntry).where(match).order_by(AuditEntry.seq)).all()
    return [(entry, entry_changes(entry)) for entry in entries]


def register_field_labels(app, entity: str, labels: dict[str, str]) -> None:
    """How the audit log and histories name an entity's fields (a feature's own words)."""
    app.extensions.setdefault("ihl_field_labels", {})[entity] = dict(labels)


def field_labels(app, entity: str) -> dict[str, str]:
    return app.extensions.get("ihl_field_labels", {}).get(entity, {})
