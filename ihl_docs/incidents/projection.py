"""Incidents as the audit log records them (held against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, names_by_id, table_rows
from ihl_docs.core.models import Incident, Party


def incident_rows(session, case):
    where = [Party.case_id == case.id] if case is not None else []
    parties = names_by_id(session, Party, "name", *where)
    where = [Incident.case_id == case.id] if case is not None else []
    return table_rows(session, Incident, lambda v: v["ref"], *where,
                      extra=lambda v: {"responsible_party": parties.get(v["responsible_party_id"])})


INCIDENT = Projection("incident", "incident", incident_rows, tables=("incident",))
