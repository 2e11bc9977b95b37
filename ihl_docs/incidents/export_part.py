"""The incidents' record file in a case export."""

from sqlmodel import select

from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.models import Incident, Party
from ihl_docs.incidents.services import incident_snapshot


def collect(ctx: Collecting) -> list[dict]:
    parties = {p.id: p.name
               for p in ctx.session.exec(select(Party).where(Party.case_id == ctx.case.id))}
    return [{**row_fields(i, "id", "case_id", "responsible_party_id", "created_by_id"),
             "responsible_party": parties.get(i.responsible_party_id),
             "created_by": ctx.emails.get(i.created_by_id)} for i in ctx.rows(Incident)]


def restore(ctx: Restoring, records: list[dict]) -> None:
    parties = {p.name: p.id
               for p in ctx.session.exec(select(Party).where(Party.case_id == ctx.case.id))}
    for data in records:
        incident = Incident(**row_values(Incident, data, "id", "case_id", "responsible_party_id",
                                         "created_by_id"),
                            case_id=ctx.case.id,
                            responsible_party_id=parties.get(data.get("responsible_party")),
                            created_by_id=ctx.author_id(data.get("created_by")))
        ctx.session.add(incident)
        ctx.session.flush()
        ctx.keep(Incident, incident)
        ctx.record("incident", incident.ref, incident_snapshot(ctx.session, incident))
        ctx.count("incidents")


def refs(records: list[dict]):
    return [("incident", data["ref"]) for data in records]


PART = RecordPart("incidents.json", collect, restore, refs=refs)
