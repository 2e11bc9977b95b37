"""Qualifying incidents under provisions, element by element, with the evidence for each."""

from dataclasses import dataclass, field

from sqlmodel import Session, select

from ihl_docs.core.access import LEGAL_WORK
from ihl_docs.core.audit import log as audit
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import (
    Assessment,
    Case,
    ElementEvidence,
    ElementFinding,
    ElementStatus,
    Evidence,
    Incident,
    IncidentEvidence,
    Provision,
    ProvisionElement,
    Qualification,
    Stance,
    SuggestionRule,
    User,
)
from ihl_docs.core.versions import lock_at_version, save_version
from ihl_docs.provisions.catalogue import elements_of
from ihl_docs.provisions.services import provision_by_key
from ihl_docs.qualifications import applicability


def _require(session: Session, user: User, incident: Incident) -> Case:
    case = session.get(Case, incident.case_id)
    if not LEGAL_WORK.allows(session, user, case):
        raise Forbidden(LEGAL_WORK.refusal)
    return case


def add_qualification(session: Session, incident: Incident, provision_key: str, assessment: str,
                      analysis: str = "", *, actor: User) -> Qualification:
    """Qualify an incident under a provision; one finding per element starts as not assessed."""
    case = _require(session, actor, incident)
    provision = provision_by_key(session, provision_key)
    if assessment not in Assessment.__members__:
        raise InvalidInput("Choose alleged, probable, established or excluded.",
                           {"assessment": "not a known assessment"})
    taken = session.exec(select(Qualification).where(
        Qualification.incident_id == incident.id, Qualification.provision_id == provision.id)).first()
    if taken:
        message = f"{incident.ref} is already qualified under {provision.key}."
        raise Conflict(message, {"provision_key": message})
    qualification = Qualification(incident_id=incident.id, provision_id=provision.id,
                                  assessment=assessment, analysis=analysis.strip(),
                                  created_by_id=actor.id)
    session.add(qualification)
    session.flush()
    for element in elements_of(session, provision):
        session.add(ElementFinding(qualification_id=qualification.id, element_number=element.number))
    session.flush()
    audit.record(session, actor=actor.email, action="create", entity="qualification",
                 entity_id=str(qualification.id), case_ref=case.ref,
                 after=qualification_snapshot(session, qualification))
    return qualification


def _check_version(session: Session, qualification: Qualification, expected: int | None) -> None:
    lock_at_version(session, qualification, expected, entity="qualification",
                    entity_id=str(qualification.id), what="This qualification")


def update_qualification(session: Session, qualification: Qualification, *, assessment: str,
                         analysis: str, expected_version: int | None, actor: User) -> Qualification:
    incident = session.get(Incident, qualification.incident_id)
    case = _require(session, actor, incident)
    _check_version(session, qualification, expected_version)
    if assessment not in Assessment.__members__:
        raise InvalidInput("Choose alleged, probable, established or excluded.",
                           {"assessment": "not a known assessment"})
    before = qualification_snapshot(session, qualification)
    qualification.assessment, qualification.analysis = assessment, analysis.strip()
    return _save(session, qualification, before, case, actor, "update")


def set_finding(session: Session, qualification: Qualification, number: int, status: str,
                note: str, citations: list[tuple[str, str]], *, expected_version: int | None = None,
                actor: User) -> ElementFinding:
    """Record the finding on one element and the evidence cited for it (replacing the old)."""
    incident = session.get(Incident, qualification.incident_id)
    case = _require(session, actor, incident)
    _check_version(session, qualification, expected_version)
    provision = session.get(Provision, qualification.provision_id)
    numbers = [e.number for e in elements_of(session, provision)]
    if number not in numbers:
        message = (f"{provision.key} has no element {number}" +
                   (f"; its elements are {numbers[0]}–{numbers[-1]}." if numbers else
                    "; it lists no elements."))
        raise InvalidInput(message, {"number": message})
    if status not in ElementStatus.__members__:
        raise InvalidInput("Choose not assessed, supported, contested or not met.",
                           {"status": "not a known status"})
    cited = _cited_evidence(session, incident, citations)
    _require_support(status, cited, number)
    before = qualification_snapshot(session, qualification)
    finding = session.exec(select(ElementFinding).where(
        ElementFinding.qualification_id == qualification.id,
        ElementFinding.element_number == number)).first() or ElementFinding(
        qualification_id=qualification.id, element_number=number)
    finding.status, finding.note, finding.updated_at = status, note.strip(), utcnow()
    session.add(finding)
    session.flush()
    for old in session.exec(select(ElementEvidence).where(ElementEvidence.finding_id == finding.id)):
        session.delete(old)
    session.flush()
    for evidence, stance in cited:
        session.add(ElementEvidence(finding_id=finding.id, evidence_id=evidence.id, stance=stance))
    session.flush()
    _save(session, qualification, before, case, actor, "update_finding")
    return finding


def _require_support(status: str, cited: list[tuple[Evidence, str]], number: int) -> None:
    """An element found supported must say by what: at least one item cited as supporting it.
    Findings stored before this rule are left as they are (the proof matrix shows them as gaps)."""
    if status == ElementStatus.supported and not any(s == Stance.supports for _, s in cited):
        message = (f"Element {number} is marked supported but no item is cited as supporting it: "
                   "cite at least one item with the stance \"supports\", or choose another finding.")
        raise InvalidInput(message, {"evidence": message})


def _cited_evidence(session: Session, incident: Incident,
                    citations: list[tuple[str, str]]) -> list[tuple[Evidence, str]]:
    cited, seen = [], set()
    for ref, stance in citations:
        if stance not in Stance.__members__:
            raise InvalidInput(f"{ref}: choose supports, contradicts or context.",
                               {"evidence": f"{ref}: unknown stance {stance!r}"})
        evidence = session.exec(select(Evidence).where(Evidence.ref == ref)).first()
        if evidence is None or evidence.case_id != incident.case_id:
            message = f"{ref} is not evidence of this case."
            raise InvalidInput(message, {"evidence": message})
        if session.get(IncidentEvidence, (incident.id, evidence.id)) is None:
            message = f"{ref} is not linked to {incident.ref}; link it to the incident first."
            raise InvalidInput(message, {"evidence": message})
        if ref in seen:
            raise InvalidInput(f"{ref} is cited twice.", {"evidence": f"{ref} is cited twice."})
        seen.add(ref)
        cited.append((evidence, stance))
    return cited


def _save(session, qualification, before, case, actor, action) -> Qualification:
    save_version(session, qualification, before,
                 lambda: qualification_snapshot(session, qualification), actor=actor.email,
                 action=action, entity="qualification", entity_id=str(qualification.id),
                 case_ref=case.ref)
    return qualification


def findings_of(session: Session, qualification: Qualification) -> list[ElementFinding]:
    return list(session.exec(select(ElementFinding)
                             .where(ElementFinding.qualification_id == qualification.id)
                             .order_by(ElementFinding.element_number)))


def citations_of(session: Session, finding: ElementFinding) -> list[tuple[str, str]]:
    rows = session.exec(select(Evidence.ref, ElementEvidence.stance)
                        .join(Evidence, Evidence.id == ElementEvidence.evidence_id)
                        .where(ElementEvidence.finding_id == finding.id).order_by(Evidence.ref))
    return [(ref, stance) for ref, stance in rows]


def qualification_snapshot(session: Session, qualification: Qualification) -> dict:
    snap = audit.snapshot(qualification)
    provision = session.get(Provision, qualification.provision_id)
    snap["provision_key"] = provision.key if provision else None
    snap["elements"] = [
        {"number": f.element_number, "status": f.status, "note": f.note,
         "evidence": [{"ref": r, "stance": s} for r, s in citations_of(session, f)]}
        for f in findings_of(session, qualification)]
    return snap


MISSING_ELEMENT = "(this element is no longer in the provision as corrected)"


def qualification_read(session: Session, qualification: Qualification) -> dict:
    """The qualification as the API and pages show it, with element texts and warnings."""
    provision = session.get(Provision, qualification.provision_id)
    incident = session.get(Incident, qualification.incident_id)
    catalogued = {e.number: e for e in elements_of(session, provision)}
    findings = applicability.check(session, incident, provision)
    elements = []
    for finding in findings_of(session, qualification):
        element = catalogued.get(finding.element_number)
        elements.append({
            "number": finding.element_number,
            "text": element.text if element else MISSING_ELEMENT,
            "kind": element.kind if element else "",
            "status": finding.status, "note": finding.note,
            "evidence": [{"ref": r, "stance": s} for r, s in citations_of(session, finding)]})
    return {
        "id": qualification.id, "incident_ref": incident.ref, "provision_key": provision.key,
        "provision_title": provision.title, "assessment": qualification.assessment,
        "analysis": qualification.analysis, "version": qualification.version,
        "elements_source": provision.elements_source, "elements": elements,
        "provision_binds": provision.binds,
        "applicability": [f.as_dict() for f in findings],
        "warnings": [f.as_dict() for f in applicability.warnings_of(findings)],
    }


def qualifications_of(session: Session, incident: Incident) -> list[Qualification]:
    return list(session.exec(select(Qualification).where(Qualification.incident_id == incident.id)
                             .order_by(Qualification.id)))


def get_qualification(session: Session, qualification_id: int) -> Qualification:
    qualification = session.get(Qualification, qualification_id)
    if qualification is None:
        raise NotFound(f"No qualification {qualification_id}.")
    return qualification


# ---- proof matrix -----------------------------------------------------------------------------

# The order in which the matrix groups a provision's elements by kind; elements without a kind
# come last, as "other".
ELEMENT_KINDS = ("context", "conduct", "circumstance", "consequence", "mental", "attribution")
OTHER_KIND = "other"


def kind_order(kind: str) -> int:
    """Where elements of this kind stand in the matrix (unknown and missing kinds last)."""
    return ELEMENT_KINDS.index(kind) if kind in ELEMENT_KINDS else len(ELEMENT_KINDS)


def by_kind(elements: list, kind=lambda e: e["kind"], number=lambda e: e["number"]) -> list:
    """Elements in the matrix's order: by kind (ELEMENT_KINDS, then other), then number."""
    return sorted(elements, key=lambda e: (kind_order(kind(e)), number(e)))


@dataclass
class MatrixRow:
    qualification_id: int
    provision_key: str
    number: int
    text: str
    status: str
    cells: dict[str, str]  # evidence ref -> stance
    unsupported: bool
    kind: str = OTHER_KIND  # one of ELEMENT_KINDS, or OTHER_KIND


@dataclass
class ProofMatrix:
    incident_ref: str
    evidence: list[str]                    # columns: every item linked to the incident
    rows: list[MatrixRow] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)   # linked evidence cited by no element
    # provision key -> where its element texts come from (Provision.elements_source)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def gaps(self) -> list[MatrixRow]:
        return [r for r in self.rows if r.unsupported]


def proof_matrix(session: Session, incident: Incident) -> ProofMatrix:
    """Elements × evidence for one incident: who supports or contradicts what, and the gaps."""
    return proof_matrices(session, [incident])[incident.id]


def proof_matrices(session: Session, incidents: list[Incident]) -> dict[int, ProofMatrix]:
    """The proof matrix of each incident (by id), read in a fixed number of queries however
    many incidents, qualifications and findings there are (a case's page shows them all)."""
    ids = [incident.id for incident in incidents]
    matrices = {incident.id: ProofMatrix(incident.ref, []) for incident in incidents}
    if not ids:
        return matrices
    for incident_id, ref in session.exec(
            select(IncidentEvidence.incident_id, Evidence.ref)
            .join(Evidence, Evidence.id == IncidentEvidence.evidence_id)
            .where(IncidentEvidence.incident_id.in_(ids)).order_by(Evidence.ref)):
        matrices[incident_id].evidence.append(ref)
    rows = session.exec(select(Qualification, Provision.key, Provision.elements_source)
                        .join(Provision, Provision.id == Qualification.provision_id)
                        .where(Qualification.incident_id.in_(ids))
                        .order_by(Qualification.id)).all()
    qualifications = [(q, key) for q, key, _ in rows]
    for q, key, source in rows:
        matrices[q.incident_id].sources[key] = source
    provision_ids = {q.provision_id for q, _ in qualifications}
    catalogued = {(e.provision_id, e.number): e for e in session.exec(
        select(ProvisionElement).where(ProvisionElement.provision_id.in_(provision_ids)))}
    findings = session.exec(select(ElementFinding).where(
        ElementFinding.qualification_id.in_([q.id for q, _ in qualifications]))
        .order_by(ElementFinding.element_number)).all()
    cells: dict[int, dict[str, str]] = {f.id: {} for f in findings}
    for finding_id, ref, stance in session.exec(
            select(ElementEvidence.finding_id, Evidence.ref, ElementEvidence.stance)
            .join(Evidence, Evidence.id == ElementEvidence.evidence_id)
            .where(ElementEvidence.finding_id.in_(list(cells))).order_by(Evidence.ref)):
        cells[finding_id][ref] = stance
    by_qualification: dict[int, list[ElementFinding]] = {}
    for finding in findings:
        by_qualification.setdefault(finding.qualification_id, []).append(finding)
    cited: dict[int, set] = {incident_id: set() for incident_id in ids}
    for qualification, key in qualifications:
        matrix = matrices[qualification.incident_id]
        found = []
        for finding in by_qualification.get(qualification.id, []):
            row = cells[finding.id]
            cited[qualification.incident_id].update(row)
            element = catalogued.get((qualification.provision_id, finding.element_number))
            found.append(MatrixRow(
                qualification.id, key, finding.element_number,
                element.text if element else MISSING_ELEMENT, finding.status, row,
                unsupported=not any(s == Stance.supports for s in row.values()),
                kind=element.kind if element and element.kind in ELEMENT_KINDS else OTHER_KIND))
        matrix.rows += by_kind(found, kind=lambda r: r.kind, number=lambda r: r.number)
    for incident_id, matrix in matrices.items():
        matrix.uncited = [ref for ref in matrix.evidence if ref not in cited[incident_id]]
    return matrices


def unsupported_elements(session: Session, incident: Incident) -> list[str]:
    """The incident's qualifications with elements no item supports, each in words ("2 of 5
    elements of api-51-4 have no supporting evidence: 2, 4"): what approving it must answer for.
    A qualification the lawyer assessed as excluded asserts nothing, so its gaps do not count."""
    excluded = set(session.exec(select(Qualification.id).where(
        Qualification.incident_id == incident.id,
        Qualification.assessment == Assessment.excluded)))
    rows = [row for row in proof_matrix(session, incident).rows
            if row.qualification_id not in excluded]
    gaps = []
    for key in dict.fromkeys(row.provision_key for row in rows):
        elements = [row for row in rows if row.provision_key == key]
        numbers = [str(n) for n in sorted(row.number for row in elements if row.unsupported)]
        if numbers:
            verb = "has" if len(numbers) == 1 else "have"
            gaps.append(f"{len(numbers)} of {len(elements)} elements of {key} {verb} no "
                        f"supporting evidence: {', '.join(numbers)}")
    return gaps


# ---- suggestions --------------------------------------------------------------------------------

def suggestions(session: Session, incident: Incident) -> list[tuple[Provision, str]]:
    """Candidate provisions for an incident from the editable mapping, not yet qualified."""
    taken = {q.provision_id for q in qualifications_of(session, incident)}
    weapon = f"{incident.weapon_type} {incident.munition_details}".casefold()
    found: dict[str, str] = {}
    rules = session.exec(select(SuggestionRule).where(SuggestionRule.active)
                         .order_by(SuggestionRule.id))
    for rule in rules:
        if rule.incident_type and rule.incident_type != incident.incident_type:
            continue
        if rule.weapon_keyword and rule.weapon_keyword.casefold() not in weapon:
            continue
        if rule.requires_civilian_objects and not incident.civilian_objects:
            continue
        found.setdefault(rule.provision_key, rule.reason)
    if not found:
        return []
    rows = session.exec(select(Provision).where(Provision.key.in_(list(found)))).all()
    by_key = {p.key: p for p in rows if p.id not in taken}
    return [(by_key[k], found[k]) for k in found if k in by_key]
