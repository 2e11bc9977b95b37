"""Evidence items, their incident links and custody events as the audit log records them (held
against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, Row, names_by_id, row_state, stored_rows, table_rows
from ihl_docs.core.models import CustodyEvent, Evidence, EvidenceDerivative, Incident, IncidentEvidence


def _refs(session, model, case) -> dict[int, str]:
    where = [model.case_id == case.id] if case is not None else []
    return names_by_id(session, model, "ref", *where)


def derivative_state(values: dict) -> dict:
    """A derivative as an item's entries record it (see services.evidence_snapshot)."""
    return row_state(values, "id", "evidence_id")


def derivative_order(state: dict) -> tuple:
    return str(state.get("purpose")), str(state.get("sha256"))


def item_rows(session, case):
    items = _refs(session, Evidence, case)
    derivatives: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, EvidenceDerivative):
        if values["evidence_id"] in items:
            derivatives.setdefault(values["evidence_id"], []).append(derivative_state(values))
    where = [Evidence.case_id == case.id] if case is not None else []
    return table_rows(session, Evidence, lambda v: v["ref"], *where, extra=lambda v: {
        "derivatives": sorted(derivatives.get(v["id"], []), key=derivative_order)})


def link_rows(session, case):
    incidents, items = _refs(session, Incident, case), _refs(session, Evidence, case)
    for values, unreadable in stored_rows(session, IncidentEvidence):
        incident, item = incidents.get(values["incident_id"]), items.get(values["evidence_id"])
        if case is not None and incident is None and item is None:
            continue  # another case's link
        yield Row(f"{incident}:{item}",
                  {"incident": incident, "evidence": item, "relevance": values["relevance"]},
                  unreadable)


def custody_rows(session, case):
    items = _refs(session, Evidence, case)
    for values, unreadable in stored_rows(session, CustodyEvent):
        ref = items.get(values["evidence_id"])
        if case is not None and ref is None:
            continue  # another case's item
        yield Row(f"{ref}#{values['id']}", row_state(values), unreadable)


ITEM = Projection("evidence", "evidence", item_rows, tables=("evidence", "evidence_derivative"))
def _link_label(key: str) -> str:
    incident, _, item = key.partition(":")
    return f"of {item} to {incident}"


LINK = Projection("incident_evidence", "link", link_rows, label_of=_link_label,
                  tables=("incident_evidence",),
                  subject_of=lambda key: key.partition(":")[2])
CUSTODY = Projection("custody_event", "custody event", custody_rows, kind="custody",
                     tables=("custody_event",),
                     subject_of=lambda key: key.split("#", 1)[0])
