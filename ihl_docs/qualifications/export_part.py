"""The qualifications' record file in a case export: each with its element findings and the
evidence cited for each element; provisions named by key."""

from sqlmodel import Session, select

from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.models import (
    ElementEvidence,
    ElementFinding,
    Evidence,
    Incident,
    Provision,
    Qualification,
)
from ihl_docs.qualifications.services import qualification_snapshot


def collect(ctx: Collecting) -> list[dict]:
    incident_refs = ctx.refs(Incident)
    rows = ctx.session.exec(select(Qualification, Provision.key)
                            .join(Provision, Provision.id == Qualification.provision_id)
                            .where(Qualification.incident_id.in_(list(incident_refs))))
    result = [{**row_fields(qualification, "id", "incident_id", "provision_id", "created_by_id"),
               "incident": incident_refs[qualification.incident_id], "provision_key": key,
               "created_by": ctx.emails.get(qualification.created_by_id),
               "findings": _findings(ctx, qualification)}
              for qualification, key in rows]
    return sorted(result, key=lambda q: (q["incident"], q["provision_key"]))


def _findings(ctx: Collecting, qualification: Qualification) -> list[dict]:
    refs, session = ctx.refs(Evidence), ctx.session
    findings = session.exec(select(ElementFinding).where(
        ElementFinding.qualification_id == qualification.id).order_by(ElementFinding.element_number))
    return [{**row_fields(f, "id", "qualification_id"),
             "evidence": sorted(({"ref": refs[c.evidence_id], "stance": c.stance}
                                 for c in session.exec(select(ElementEvidence).where(
                                     ElementEvidence.finding_id == f.id))),
                                key=lambda c: c["ref"])}
            for f in findings]


def restore(ctx: Restoring, records: list[dict]) -> None:
    for data in records:
        _restore(ctx, data)


def _restore(ctx: Restoring, data: dict) -> None:
    session, items = ctx.session, ctx.made(Evidence)
    provision = session.exec(select(Provision).where(Provision.key == data["provision_key"])).one()
    qualification = Qualification(
        **row_values(Qualification, data, "id", "incident_id", "provision_id", "created_by_id"),
        incident_id=ctx.made(Incident)[data["incident"]].id, provision_id=provision.id,
        created_by_id=ctx.author_id(data.get("created_by")))
    session.add(qualification)
    session.flush()
    for finding_data in data["findings"]:
        finding = ElementFinding(**row_values(ElementFinding, finding_data, "id",
                                              "qualification_id"),
                                 qualification_id=qualification.id)
        session.add(finding)
        session.flush()
        for cited in finding_data["evidence"]:
            session.add(ElementEvidence(finding_id=finding.id, evidence_id=items[cited["ref"]].id,
                                        stance=cited["stance"]))
    session.flush()
    ctx.record("qualification", str(qualification.id),
               qualification_snapshot(session, qualification))
    ctx.count("qualifications")


def refusal(session: Session, records: list[dict]) -> str | None:
    """Provisions the records cite that this catalogue lacks (by key)."""
    keys = sorted({q["provision_key"] for q in records})
    known = set(session.exec(select(Provision.key).where(Provision.key.in_(keys))).all())
    lacking = [key for key in keys if key not in known]
    if lacking:
        return (f"The legal catalogue here lacks provision(s) {', '.join(lacking)}, cited by the "
                "case's qualifications; load them first (ihl provisions import). Nothing was "
                "imported.")
    return None


def refs(records: list[dict]):
    """The incidents qualified and the evidence cited for their elements."""
    found = []
    for qualification in records:
        found.append(("incident", qualification["incident"]))
        found += [("evidence", cited["ref"]) for finding in qualification["findings"]
                  for cited in finding["evidence"]]
    return found


PART = RecordPart("qualifications.json", collect, restore, refusal=refusal, refs=refs)
