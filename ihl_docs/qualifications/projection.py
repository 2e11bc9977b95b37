"""Qualifications, with their element findings and citations, as the audit log records them
(held against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, names_by_id, stored_rows, table_rows
from ihl_docs.core.models import ElementEvidence, ElementFinding, Evidence, Incident, Provision, Qualification


def qualification_rows(session, case):
    keys, refs = names_by_id(session, Provision, "key"), names_by_id(session, Evidence)
    incidents = set(names_by_id(
        session, Incident, "ref", *([Incident.case_id == case.id] if case is not None else [])))
    citations: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, ElementEvidence):
        citations.setdefault(values["finding_id"], []).append(
            {"ref": refs.get(values["evidence_id"]), "stance": values["stance"]})
    elements: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, ElementFinding):
        elements.setdefault(values["qualification_id"], []).append({
            "number": values["element_number"], "status": values["status"],
            "note": values["note"],
            "evidence": sorted(citations.get(values["id"], []), key=lambda c: str(c["ref"]))})

    def extra(values: dict) -> dict:
        return {"provision_key": keys.get(values["provision_id"]),
                "elements": sorted(elements.get(values["id"], []),
                                   key=lambda e: (e["number"] is None, e["number"] or 0))}

    where = [Qualification.incident_id.in_(incidents)] if case is not None else []
    return table_rows(session, Qualification, lambda v: str(v["id"]), *where, extra=extra)


QUALIFICATION = Projection("qualification", "qualification", qualification_rows,
                           tables=("qualification", "element_finding", "element_evidence"),
                           label_of=lambda key: f"#{key}")
