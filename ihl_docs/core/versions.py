"""The locked, versioned, audited update every editable record goes through.

An edit names the version it started from. The record's row is locked, the version checked (a
stale edit is refused with what others changed since), the change applied by the caller, and,
if anything changed, the version bumped and the audit entry written, in the caller's
transaction."""

from collections.abc import Callable

from sqlmodel import Session

from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import ROW_LOCK
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import StaleVersion

STALE = ("{what} was changed by someone else since you opened it (your version {mine}, now "
         "{now}). Nothing was saved.")


def lock_at_version(session: Session, record, expected: int | None, *, entity: str,
                    entity_id: str, what: str, message: str = STALE) -> None:
    """Lock the record's row; refuse (StaleVersion) if it was saved after version `expected`.
    `expected` None means the caller did not say (the API's optional If-Match)."""
    session.refresh(record, with_for_update=ROW_LOCK)
    if expected is not None and record.version != expected:
        raise StaleVersion(message.format(what=what, mine=expected, now=record.version),
                           record.version,
                           audit.changes_since(session, entity, entity_id, expected))


def save_version(session: Session, record, before: dict, snapshot: Callable[[], dict], *,
                 actor: str, entity: str, entity_id: str, case_ref: str | None = None,
                 action: str = "update") -> bool:
    """If the record's snapshot differs from `before`: bump its version (and `updated_at`, where
    it has one), flush, and write the audit entry. False when nothing changed."""
    if audit.changed_fields(before, snapshot()) == {}:
        return False
    record.version += 1
    if hasattr(record, "updated_at"):
        record.updated_at = utcnow()
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action=action, entity=entity, entity_id=entity_id,
                 case_ref=case_ref, before=before, after=snapshot())
    return True
