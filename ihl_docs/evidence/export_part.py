"""The evidence's record file in a case export: each item with its derivatives, incident links
and custody chain."""

from sqlmodel import select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.models import CustodyEvent, Evidence, EvidenceDerivative, Incident, IncidentEvidence
from ihl_docs.evidence.services import evidence_snapshot


def collect(ctx: Collecting) -> list[dict]:
    return [_item(ctx, item) for item in ctx.rows(Evidence)]


def _item(ctx: Collecting, item: Evidence) -> dict:
    session, emails, incident_refs = ctx.session, ctx.emails, ctx.refs(Incident)
    derivatives = session.exec(select(EvidenceDerivative).where(
        EvidenceDerivative.evidence_id == item.id).order_by(EvidenceDerivative.purpose))
    links = session.exec(select(IncidentEvidence).where(IncidentEvidence.evidence_id == item.id))
    custody = session.exec(select(CustodyEvent).where(CustodyEvent.evidence_id == item.id)
                           .order_by(CustodyEvent.occurred_at, CustodyEvent.id))
    return {
        **row_fields(item, "id", "case_id", "parent_id", "created_by_id"),
        "parent_ref": ctx.refs(Evidence).get(item.parent_id),
        "created_by": emails.get(item.created_by_id),
        "derivatives": [row_fields(d, "id", "evidence_id") for d in derivatives],
        "incidents": sorted(({**row_fields(link, "incident_id", "evidence_id", "linked_by_id"),
                              "incident": incident_refs[link.incident_id],
                              "linked_by": emails.get(link.linked_by_id)} for link in links),
                            key=lambda link: link["incident"]),
        "custody": [row_fields(event, "id", "evidence_id") for event in custody],
    }


def files(records: list[dict]) -> list[str]:
    """The items' files and their derivatives'."""
    names = []
    for item in records:
        names += [d["sha256"] for d in item["derivatives"]]
        if item["sha256"]:
            names.append(item["sha256"])
    return names


def restore(ctx: Restoring, records: list[dict]) -> None:
    """The items, then their parents (any item may be another's), then links and custody."""
    for data in records:
        _restore_item(ctx, data)
    items = ctx.made(Evidence)
    for data in records:
        if data.get("parent_ref") in items:
            items[data["ref"]].parent_id = items[data["parent_ref"]].id
            ctx.session.add(items[data["ref"]])
    ctx.session.flush()
    for data in records:
        _restore_links_and_custody(ctx, data)


def _restore_item(ctx: Restoring, data: dict) -> None:
    item = Evidence(**row_values(Evidence, data, "id", "case_id", "parent_id", "created_by_id"),
                    case_id=ctx.case.id, created_by_id=ctx.author_id(data.get("created_by")))
    ctx.session.add(item)
    ctx.session.flush()
    for derivative in data["derivatives"]:
        ctx.session.add(EvidenceDerivative(**row_values(EvidenceDerivative, derivative, "id",
                                                        "evidence_id"),
                                           evidence_id=item.id))
    ctx.session.flush()
    ctx.keep(Evidence, item)
    ctx.record("evidence", item.ref, evidence_snapshot(ctx.session, item))
    ctx.count("evidence items")


def _restore_links_and_custody(ctx: Restoring, data: dict) -> None:
    item, session = ctx.made(Evidence)[data["ref"]], ctx.session
    for link in data["incidents"]:
        incident = ctx.made(Incident)[link["incident"]]
        session.add(IncidentEvidence(
            **row_values(IncidentEvidence, link, "incident_id", "evidence_id", "linked_by_id"),
            incident_id=incident.id, evidence_id=item.id,
            linked_by_id=ctx.author_id(link.get("linked_by"))))
        session.flush()
        ctx.record("incident_evidence", f"{incident.ref}:{item.ref}",
                   {"incident": incident.ref, "evidence": item.ref, "relevance": link["relevance"]})
        ctx.count("incident links")
    for event in data["custody"]:  # in the order exported: ids keep ties in order
        row = CustodyEvent(**row_values(CustodyEvent, event, "id", "evidence_id"),
                           evidence_id=item.id)
        session.add(row)
        session.flush()
        ctx.record("custody_event", f"{item.ref}#{row.id}", audit.snapshot(row))
        ctx.count("custody events")


def refs(records: list[dict]):
    """The items' refs, their parents' and the incidents they are linked to."""
    found = []
    for item in records:
        found.append(("evidence", item["ref"]))
        if item.get("parent_ref") is not None:
            found.append(("evidence", item["parent_ref"]))
        found += [("incident", link["incident"]) for link in item["incidents"]]
    return found


PART = RecordPart("evidence.json", collect, restore, files=files, refs=refs)
