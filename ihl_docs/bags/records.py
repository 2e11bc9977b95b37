"""A case's records as plain JSON-ready data, and back: refs, keys and e-mails, never ids."""

from datetime import datetime

from sqlmodel import Session, select

from ihl_docs.bags import FORMAT
from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.dbtypes import UTCDateTime
from ihl_docs.core.models import (
    Case,
    CaseMember,
    CustodyEvent,
    Dossier,
    DossierStatus,
    ElementEvidence,
    ElementFinding,
    Evidence,
    EvidenceDerivative,
    Incident,
    IncidentEvidence,
    Party,
    Provision,
    Qualification,
    User,
)

# Dossiers still being built are left out: their PDF does not exist yet.
FINISHED = (DossierStatus.done, DossierStatus.failed)


def row_fields(row, *skip: str) -> dict:
    """A row's columns as JSON-ready values, leaving out `skip` (ids and foreign keys)."""
    return {c.name: jsonable(getattr(row, c.name)) for c in row.__table__.columns
            if c.name not in skip}


def row_values(model, data: dict, *skip: str) -> dict:
    """The column values of `model` found in `data`, times parsed back; `skip` left out."""
    values = {}
    for column in model.__table__.columns:
        if column.name in skip or column.name not in data:
            continue
        value = data[column.name]
        if isinstance(column.type, UTCDateTime) and value is not None:
            value = datetime.fromisoformat(value)
        values[column.name] = value
    return values


def case_records(session: Session, case: Case) -> dict[str, object]:
    """File name -> content of every record file of the case."""
    emails = _emails(session)
    incidents = list(session.exec(select(Incident).where(Incident.case_id == case.id)
                                  .order_by(Incident.ref)))
    items = list(session.exec(select(Evidence).where(Evidence.case_id == case.id)
                              .order_by(Evidence.ref)))
    return {
        "case.json": _case(session, case, emails),
        "incidents.json": _incidents(session, case, incidents, emails),
        "evidence.json": [_item(session, item, items, incidents, emails) for item in items],
        "qualifications.json": _qualifications(session, incidents, items, emails),
        "dossiers.json": [{**row_fields(d, "id", "case_id", "requested_by_id"),
                           "requested_by": emails.get(d.requested_by_id)}
                          for d in session.exec(select(Dossier).where(
                              Dossier.case_id == case.id, Dossier.status.in_(FINISHED))
                              .order_by(Dossier.ref))],
    }


def files_of(records: dict[str, object]) -> list[str]:
    """The SHA-256 of every file the records name, each once, in a stable order."""
    names = set()
    for item in records["evidence.json"]:
        names.update(d["sha256"] for d in item["derivatives"])
        if item["sha256"]:
            names.add(item["sha256"])
    names.update(d["sha256"] for d in records["dossiers.json"] if d["sha256"])
    return sorted(names)


def _emails(session: Session) -> dict[int, str]:
    return dict(session.exec(select(User.id, User.email)).all())


def _case(session: Session, case: Case, emails: dict[int, str]) -> dict:
    parties = session.exec(select(Party).where(Party.case_id == case.id).order_by(Party.name))
    members = session.exec(select(CaseMember).where(CaseMember.case_id == case.id))
    return {
        "format": FORMAT,
        "case": {**row_fields(case, "id", "created_by_id"),
                 "created_by": emails.get(case.created_by_id)},
        "parties": [row_fields(p, "id", "case_id") for p in parties],
        "members": sorted(({"email": emails[m.user_id], "added_at": jsonable(m.added_at),
                            "added_by": emails.get(m.added_by_id)} for m in members),
                          key=lambda m: m["email"]),
    }


def _incidents(session: Session, case: Case, incidents: list[Incident],
               emails: dict[int, str]) -> list[dict]:
    parties = {p.id: p.name for p in session.exec(select(Party).where(Party.case_id == case.id))}
    return [{**row_fields(i, "id", "case_id", "responsible_party_id", "created_by_id"),
             "responsible_party": parties.get(i.responsible_party_id),
             "created_by": emails.get(i.created_by_id)} for i in incidents]


def _item(session: Session, item: Evidence, items: list[Evidence], incidents: list[Incident],
          emails: dict[int, str]) -> dict:
    refs = {e.id: e.ref for e in items}
    incident_refs = {i.id: i.ref for i in incidents}
    derivatives = session.exec(select(EvidenceDerivative).where(
        EvidenceDerivative.evidence_id == item.id).order_by(EvidenceDerivative.purpose))
    links = session.exec(select(IncidentEvidence).where(IncidentEvidence.evidence_id == item.id))
    custody = session.exec(select(CustodyEvent).where(CustodyEvent.evidence_id == item.id)
                           .order_by(CustodyEvent.occurred_at, CustodyEvent.id))
    return {
        **row_fields(item, "id", "case_id", "parent_id", "created_by_id"),
        "parent_ref": refs.get(item.parent_id),
        "created_by": emails.get(item.created_by_id),
        "derivatives": [row_fields(d, "id", "evidence_id") for d in derivatives],
        "incidents": sorted(({**row_fields(link, "incident_id", "evidence_id", "linked_by_id"),
                              "incident": incident_refs[link.incident_id],
                              "linked_by": emails.get(link.linked_by_id)} for link in links),
                            key=lambda link: link["incident"]),
        "custody": [row_fields(event, "id", "evidence_id") for event in custody],
    }


def _qualifications(session: Session, incidents: list[Incident], items: list[Evidence],
                    emails: dict[int, str]) -> list[dict]:
    incident_refs = {i.id: i.ref for i in incidents}
    refs = {e.id: e.ref for e in items}
    rows = session.exec(select(Qualification, Provision.key)
                        .join(Provision, Provision.id == Qualification.provision_id)
                        .where(Qualification.incident_id.in_(list(incident_refs))))
    result = []
    for qualification, key in rows:
        findings = session.exec(select(ElementFinding).where(
            ElementFinding.qualification_id == qualification.id)
            .order_by(ElementFinding.element_number))
        result.append({
            **row_fields(qualification, "id", "incident_id", "provision_id", "created_by_id"),
            "incident": incident_refs[qualification.incident_id], "provision_key": key,
            "created_by": emails.get(qualification.created_by_id),
            "findings": [{**row_fields(f, "id", "qualification_id"),
                          "evidence": sorted(({"ref": refs[c.evidence_id], "stance": c.stance}
                                              for c in session.exec(select(ElementEvidence).where(
                                                  ElementEvidence.finding_id == f.id))),
                                             key=lambda c: c["ref"])}
                         for f in findings],
        })
    return sorted(result, key=lambda q: (q["incident"], q["provision_key"]))
