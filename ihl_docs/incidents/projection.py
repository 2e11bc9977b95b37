"""Incidents as the audit log records them (held against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, stored_rows, table_rows
from ihl_docs.core.models import Incident, Party


def incident_rows(session, case):
    where = [Party.case_id == case.id] if case is not None else []
    parties = {v["id"]: v["name"] for v, _ in stored_rows(session, Party, *where)}
    where = [Incident.case_id == case.id] if case is not None else []
    return table_rows(session, Incident, lambda v: v["ref"], *where,
                      extra=lambda v: {"responsible_party": parties.get(v["responsible_party_id"])})


INCIDENT = Projection("incident", "incident", incident_rows, tables=("incident",))
