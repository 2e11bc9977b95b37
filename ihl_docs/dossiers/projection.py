"""Dossiers as the audit log records them (held against the log by verification)."""

import hashlib

from ihl_docs.core.audit.replay import Projection, Row, row_state, stored_rows
from ihl_docs.core.models import Dossier

# What a build writes while it runs, to show its progress and that it is alive.
PROGRESS_FIELDS = frozenset({"stage", "progress", "heartbeat_at"})


def manifest_digest(manifest: str | None) -> str | None:
    return hashlib.sha256(manifest.encode()).hexdigest() if manifest else None


def dossier_rows(session, case):
    where = [Dossier.case_id == case.id] if case is not None else []
    for values, unreadable in stored_rows(session, Dossier, *where):
        state = row_state(values, "manifest")
        state["manifest_sha256"] = manifest_digest(values["manifest"])
        yield Row(values["ref"], state, unreadable)


DOSSIER = Projection("dossier", "dossier", dossier_rows, unaudited=PROGRESS_FIELDS,
                     tables=("dossier",))
