"""What a dossier shows: the case's records as plain data, cut to what the audience may see.

The result is JSON-ready and carries no database id and no wall-clock time, so its canonical
form — and the case fingerprint, its SHA-256 — depend only on the case content shown. Sorting is
by ref or by key, never by row id, so an export imported elsewhere gives the same content.
"""

import hashlib
import re
from collections import defaultdict
from dataclasses import replace

from sqlmodel import Session, SQLModel, select

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.models import (
    Case,
    CustodyAction,
    CustodyEvent,
    Evidence,
    EvidenceDerivative,
    EvidenceKind,
    Incident,
    IncidentBase,
    IncidentEvidence,
    Instrument,
    Party,
    Provision,
    Qualification,
    Sensitivity,
    WorkflowStatus,
    label,
)
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.dossiers.audiences import (
    DESCRIBED_FIELDS,
    PUBLIC_SOURCE,
    AudiencePolicy,
    Show,
    policy_for,
)
from ihl_docs.dossiers.parts import collect_parts
from ihl_docs.dossiers.render import ORIGINAL_TYPES
from ihl_docs.evidence.custody_times import Zone, custody_times, custody_zone
from ihl_docs.evidence.services import THUMBNAIL, custody_warnings, metadata_discrepancies
from ihl_docs.incidents.facts import other_facts
from ihl_docs.incidents.forms import FIELD_LABELS
from ihl_docs.protection import services as protection
from ihl_docs.protection.redaction import Hit, redact
from ihl_docs.qualifications.services import ELEMENT_KINDS, by_kind, qualification_read

FORMAT = "ihl_docs dossier content 1"

# Reads of an item are kept on its page and in the audit log, not in the custody annex, so
# building a dossier (which records `exported`) does not change the next one.
READS = {CustodyAction.accessed, CustodyAction.exported}

# Every fact of the incident model: a new field is in the content (and the fingerprint) at once,
# and the incident section lists it under its words if the template does not lay it out.
INCIDENT_FIELDS = ("ref", *IncidentBase.model_fields, "workflow_status")
EVIDENCE_FIELDS = (
    "ref", "kind", "sensitivity", "title", "description", "source_url", "source_platform",
    "source_author", "published_at", "acquired_at", "acquired_by", "acquisition_method",
    "reliability", "credibility", "original_filename", "sha256", "size", "media_type",
    "capture_time", "capture_latitude", "capture_longitude", "capture_device",
)
CUSTODY_FIELDS = ("action", "occurred_at", "custodian_from", "custodian_to", "place",
                  "purpose", "notes", "actor", "recorded_at", "sha256_observed", "hash_matched")


def canonical(content: dict) -> bytes:
    """The content as the dossier attaches it: canonical JSON, without `prepared_by`, which is
    not case content."""
    body = {k: v for k, v in content.items() if k != "prepared_by"}
    return canonical_json(body).encode("utf-8")


def fingerprint(content: dict) -> str:
    """SHA-256 over the canonical JSON of the content."""
    return hashlib.sha256(canonical(content)).hexdigest()


def incident_scope(session: Session, case: Case, policy: AudiencePolicy,
                   chosen: list[str] | None) -> tuple[list[Incident], list[Incident]]:
    """(the incidents a dossier covers, the case's others), each by ref: the refs `chosen`,
    or, when none are chosen, those whose workflow status the audience covers by default.
    Refs not of the case are ignored here; requests check them (services.dossier_scope)."""
    rows = list(session.exec(select(Incident).where(Incident.case_id == case.id)
                             .order_by(Incident.ref)))
    if chosen is None:
        covered = [row for row in rows if row.workflow_status in policy.default_scope]
    else:
        wanted = set(chosen)
        covered = [row for row in rows if row.ref in wanted]
    covered_ids = {row.id for row in covered}
    return covered, [row for row in rows if row.id not in covered_ids]


def collect(session: Session, case: Case, *, audience: str, prepared_by: str,
            store: EvidenceStore, parts: tuple = (), incidents: list[str] | None = None,
            full_images: list[str] | None = None) -> dict:
    """Everything the dossier shows, for `audience`, as plain JSON-ready data; `parts`: the
    sections features added (dossiers/parts.py); `incidents`: the refs of the incidents it
    covers (None: the audience's default scope); `full_images`: the refs of the items whose
    images are annexed at full resolution."""
    return _collect(session, case, policy_for(audience), prepared_by, store, parts, incidents,
                    full_images)


def _collect(session: Session, case: Case, policy: AudiencePolicy, prepared_by: str,
             store: EvidenceStore, parts: tuple, incidents: list[str] | None,
             full_images: list[str] | None = None) -> dict:
    covered, excluded = incident_scope(session, case, policy, incidents)
    evidence, out_of_scope = _evidence(session, case, policy, store,
                                       {row.id for row in covered})
    shown = {item["ref"] for item in evidence if not item.get("withheld")}
    incidents, withheld_incidents = _incidents(session, case, policy, shown, evidence, covered)
    content = {
        "format": FORMAT,
        "audience": policy.name,
        "marking": policy.marking,
        "audience_note": policy.note,
        "prepared_by": prepared_by,
        "case": _case(session, case),
        "incidents": incidents,
        "evidence": [item for item in evidence if not item.get("withheld")],
        "withheld_count": sum(1 for item in evidence if item.get("withheld")),
        "provisions": _provisions(session, incidents),
        "scope": [row.ref for row in covered],
    }
    annexed = _full_images(content["evidence"], full_images or [])
    if annexed:  # absent when none, so dossiers without the annex read as before
        content["full_images"] = annexed
    if out_of_scope:  # absent when none, so dossiers covering every incident read as before
        content["out_of_scope_count"] = out_of_scope
    if excluded:  # absent when none: the "Not in this edition" list
        content["excluded_incidents"] = [
            {"ref": row.ref, "workflow_status": jsonable(row.workflow_status)} for row in excluded]
    if withheld_incidents:  # absent when none, so editions showing every incident read as before
        content["withheld_incidents"] = withheld_incidents
    added, withheld_parts = collect_parts(session, case, policy, parts)
    if added:  # absent when no part adds anything, so dossiers without parts read as before
        content["parts"] = added
    if withheld_parts:
        content["withheld_parts"] = withheld_parts
    content["missing"] = _missing(content)
    if policy.protects:
        content, _ = protect(session, case, content)
    return content


def protect(session: Session, case: Case, content: dict) -> tuple[dict, list[Hit]]:
    """The content with the case's protected terms, phone numbers, e-mail addresses and staff
    names replaced in every text, and the list of replacements (the disclosure check)."""
    return redact(content, protection.finders(session, case))


def disclosure_check(session: Session, case: Case, *, audience: str, prepared_by: str,
                     store: EvidenceStore, parts: tuple = (),
                     incidents: list[str] | None = None,
                     full_images: list[str] | None = None) -> list[Hit]:
    """What an edition would protect, hit by hit: where, what was found, what it becomes.
    Empty for an audience that protects nothing (internal)."""
    policy = policy_for(audience)
    if not policy.protects:
        return []
    content = _collect(session, case, replace(policy, protects=False), prepared_by, store,
                       parts, incidents, full_images)
    return protect(session, case, content)[1]


def _case(session: Session, case: Case) -> dict:
    parties = session.exec(select(Party).where(Party.case_id == case.id).order_by(Party.name))
    return {
        "ref": case.ref, "title": case.title, "summary": case.summary,
        "status": jsonable(case.status),
        "conflict_classification": jsonable(case.conflict_classification),
        "parties": [{"name": p.name, "kind": jsonable(p.kind), "state_code": p.state_code}
                    for p in parties],
    }


# ---- evidence ---------------------------------------------------------------------------------

def _evidence(session: Session, case: Case, policy: AudiencePolicy,
              store: EvidenceStore, covered: set[int]) -> tuple[list[dict], int]:
    """The items the edition shows, describes or withholds, and how many it leaves out because
    every incident they are linked to is outside its scope (an item linked to no incident is
    case evidence, always in)."""
    rows = list(session.exec(select(Evidence).where(Evidence.case_id == case.id)
                             .order_by(Evidence.ref)))
    linked_to = _links_of_case(session, case)
    in_scope = [row for row in rows if not linked_to.get(row.id)
                or any(i.id in covered for i in linked_to[row.id])]
    out_of_scope = len(rows) - len(in_scope)
    rows = in_scope
    ids = [row.id for row in rows]
    refs = {row.id: row.ref for row in rows}
    chains = _custody(session, ids)
    thumbs = _thumbnails(session, ids)
    # the incidents each item is linked to that the edition covers and shows
    incidents = {evidence_id: [i for i in linked if i.id in covered
                               and i.workflow_status in policy.incidents]
                 for evidence_id, linked in linked_to.items()}
    items = []
    for row in rows:
        show = policy.show(row.sensitivity)
        if show == Show.withheld:
            items.append({"ref": row.ref, "withheld": True})
            continue
        item = {f: jsonable(getattr(row, f)) for f in EVIDENCE_FIELDS}
        item["parent_ref"] = refs.get(row.parent_id) if row.parent_id else None
        item["incidents"] = sorted(i.ref for i in incidents.get(row.id, []))
        events = chains.get(row.id, [])
        zone = custody_zone(incidents.get(row.id, []))
        hidden = policy.hidden_custody[show]
        item["custody"] = _chain(events, hidden, zone)
        item["custody_warnings"] = [_scrub(w, events, hidden)
                                    for w in custody_warnings(events, row).get(None, [])]
        item["custody_summary"] = _custody_summary(events, item["custody"])
        item["flags"] = metadata_discrepancies(row, incidents.get(row.id, []))
        item["thumbnail"] = _thumbnail(thumbs.get(row.id), store)
        items.append(_described(item) if show == Show.described else _cut(item, policy))
    return items, out_of_scope


def _links_of_case(session: Session, case: Case) -> dict[int, list[Incident]]:
    """Evidence id -> every incident of the case it is linked to (one query)."""
    links: dict[int, list[Incident]] = defaultdict(list)
    rows = session.exec(select(IncidentEvidence.evidence_id, Incident)
                        .join(Incident, Incident.id == IncidentEvidence.incident_id)
                        .where(Incident.case_id == case.id).order_by(Incident.ref))
    for evidence_id, incident in rows:
        links[evidence_id].append(incident)
    return links


def _full_images(items: list[dict], refs: list[str]) -> list[dict]:
    """The images annexed at full resolution: those chosen that the edition shows in full and
    whose stored file is an image the renderer embeds (JPEG, PNG)."""
    wanted = set(refs)
    return [{"ref": item["ref"], "title": item["title"], "sha256": item["sha256"],
             "media_type": item["media_type"], "size": item["size"]}
            for item in items
            if item["ref"] in wanted and not item.get("described_only")
            and item.get("media_type") in ORIGINAL_TYPES and item.get("sha256")]


def _cut(item: dict, policy: AudiencePolicy) -> dict:
    """An item shown, without the fields the audience may not see; a public source keeps
    where and by whom it was published."""
    public_source = (item["kind"] == EvidenceKind.open_source_post.value
                     and item["sensitivity"] == Sensitivity.public.value)
    for name in policy.hidden_fields - (PUBLIC_SOURCE if public_source else frozenset()):
        item[name] = _emptied(Evidence, name)
    if not policy.distance_flags:  # a distance from the capture position is a position too
        item["flags"] = [DISTANCE.sub(" is far from ", f) for f in item["flags"]]
    return item


DISTANCE = re.compile(r" is [\d,.]+ km from ")


def _described(item: dict) -> dict:
    """An item described, not shown: what proves it exists and is unchanged, and its custody."""
    return {**{f: item[f] for f in DESCRIBED_FIELDS}, "described_only": True,
            "custody": item["custody"], "custody_summary": item["custody_summary"],
            "custody_warnings": item["custody_warnings"],
            "incidents": item["incidents"], "thumbnail": None}


def _emptied(model: type[SQLModel], name: str) -> str | None:
    """What a removed field reads as: empty text for a text field, otherwise nothing."""
    return "" if model.model_fields[name].annotation is str else None


def _custody(session: Session, ids: list[int]) -> dict[int, list[CustodyEvent]]:
    chains: dict[int, list[CustodyEvent]] = defaultdict(list)
    if not ids:
        return chains
    events = session.exec(select(CustodyEvent).where(CustodyEvent.evidence_id.in_(ids),
                                                     CustodyEvent.action.not_in(READS))
                          .order_by(CustodyEvent.occurred_at, CustodyEvent.recorded_at))
    for event in events:
        chains[event.evidence_id].append(event)
    return chains


def _chain(events: list[CustodyEvent], hidden: frozenset[str], zone: Zone) -> list[dict]:
    """The events as the annex prints them: their fields, when each happened and was recorded
    (in the incident's local time and UTC, back-filled ones marked), and their gaps."""
    warnings = custody_warnings(events)
    chain = []
    for event in events:
        entry = {f: jsonable(getattr(event, f)) for f in CUSTODY_FIELDS}
        entry.update({name: _emptied(CustodyEvent, name) for name in hidden})
        times = custody_times(event, zone)
        entry.update({"occurred_text": times.occurred, "recorded_text": times.recorded,
                      "recorded_later": times.later, "hash_text": times.hash})
        entry["warnings"] = [_scrub(w, events, hidden) for w in warnings.get(event.id, [])]
        chain.append(entry)
    return chain


def _scrub(warning: str, events: list[CustodyEvent], hidden: frozenset[str]) -> str:
    """A custody warning without the custodians, places and notes the edition hides."""
    values = {getattr(e, name) for e in events for name in hidden}
    for value in sorted((v for v in values if isinstance(v, str) and len(v.strip()) > 1),
                        key=len, reverse=True):
        warning = warning.replace(value, "[not shown in this edition]")
    return warning


def _custody_summary(events: list[CustodyEvent], chain: list[dict]) -> str:
    """How many events, whether every hash check matched, and who holds the item now — as the
    edition's chain shows it (an edition that hides custodians names no holder)."""
    if not events:
        return "no custody event recorded"
    last = chain[-1]
    holder = last["custodian_to"] or last["custodian_from"] or last["actor"]
    checks = [e.hash_matched for e in events if e.hash_matched is not None]
    verdict = ("hash matched" if checks and all(checks)
               else "HASH MISMATCH" if checks else "no hash check")
    return (f"{len(events)} event{'s' if len(events) != 1 else ''}, {verdict}"
            + (f"; with {holder}" if holder else ""))


def _thumbnails(session: Session, ids: list[int]) -> dict[int, EvidenceDerivative]:
    if not ids:
        return {}
    rows = session.exec(select(EvidenceDerivative).where(
        EvidenceDerivative.evidence_id.in_(ids), EvidenceDerivative.purpose == THUMBNAIL))
    return {row.evidence_id: row for row in rows}


def _thumbnail(derivative: EvidenceDerivative | None, store: EvidenceStore) -> dict | None:
    if derivative is None:
        return None
    present = store.exists(derivative.sha256)
    return {"sha256": derivative.sha256, "media_type": derivative.media_type, "present": present}


# ---- incidents and their legal analysis -------------------------------------------------------

def _incidents(session: Session, case: Case, policy: AudiencePolicy, shown: set[str],
               evidence: list[dict], rows: list[Incident]) -> tuple[list[dict], int]:
    """The incidents covered that the edition shows, and how many of them it withholds."""
    parties = {p.id: p.name for p in session.exec(select(Party).where(Party.case_id == case.id))}
    kept = [row for row in rows if row.workflow_status in policy.incidents]
    links = _links(session, [row.id for row in kept])
    described = {item["ref"] for item in evidence if item.get("described_only")}
    incidents = []
    for row in kept:
        incident = {f: jsonable(getattr(row, f)) for f in INCIDENT_FIELDS}
        incident["responsible_party"] = parties.get(row.responsible_party_id)
        if row.approval_note:  # absent when none, so incidents without one read as before
            incident["approval_note"] = row.approval_note
        others = other_facts(row, FIELD_LABELS)
        if others:  # absent when none, so incidents without such facts read as before
            incident["other_facts"] = [list(pair) for pair in others]
        linked = links.get(row.id, [])
        incident["evidence"] = [
            {"ref": ref, "relevance": "" if ref in described else relevance,
             "described_only": ref in described}
            for ref, relevance in linked if ref in shown]
        incident["withheld_evidence"] = sum(1 for ref, _ in linked if ref not in shown)
        incident["qualifications"] = _qualifications(session, row, shown)
        incidents.append(incident)
    return incidents, len(rows) - len(kept)


def _links(session: Session, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    links: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not ids:
        return links
    rows = session.exec(select(IncidentEvidence.incident_id, Evidence.ref,
                               IncidentEvidence.relevance)
                        .join(Evidence, Evidence.id == IncidentEvidence.evidence_id)
                        .where(IncidentEvidence.incident_id.in_(ids)).order_by(Evidence.ref))
    for incident_id, ref, relevance in rows:
        links[incident_id].append((ref, relevance))
    return links


def _qualifications(session: Session, incident: Incident, shown: set[str]) -> list[dict]:
    rows = session.exec(select(Qualification, Provision.key)
                        .join(Provision, Provision.id == Qualification.provision_id)
                        .where(Qualification.incident_id == incident.id).order_by(Provision.key))
    result = []
    for qualification, _ in rows:
        read = qualification_read(session, qualification)
        elements = []
        for element in by_kind(read["elements"]):
            cited = [c for c in element["evidence"] if c["ref"] in shown]
            elements.append({
                "number": element["number"], "text": element["text"],
                "status": jsonable(element["status"]), "note": element["note"],
                "evidence": [{"ref": c["ref"], "stance": jsonable(c["stance"])} for c in cited],
                "withheld": len(element["evidence"]) - len(cited),
                "supported": any(c["stance"] == "supports" for c in cited),
            })
            if element["kind"] in ELEMENT_KINDS:  # absent when none, so such elements read as before
                elements[-1]["kind"] = element["kind"]
        qualification_content = {
            "provision_key": read["provision_key"], "provision_title": read["provision_title"],
            "assessment": jsonable(read["assessment"]), "analysis": read["analysis"],
            "elements": elements, "warnings": read["warnings"],
            "applicability": read["applicability"],
        }
        if read["elements_source"]:  # absent when none, as above
            qualification_content["elements_source"] = read["elements_source"]
        result.append(qualification_content)
    return result


def _provisions(session: Session, incidents: list[dict]) -> list[dict]:
    keys = sorted({q["provision_key"] for i in incidents for q in i["qualifications"]})
    if not keys:
        return []
    rows = session.exec(select(Provision, Instrument)
                        .join(Instrument, Instrument.id == Provision.instrument_id)
                        .where(Provision.key.in_(keys)).order_by(Provision.key))
    return [{"key": p.key, "instrument": i.short_name, "instrument_name": i.name,
             "article": p.article, "title": p.title, "summary": p.summary,
             "source_url": p.source_url, "catalogue_version": p.version,
             "corrected": p.version > 1}
            for p, i in rows]


def _missing(content: dict) -> list[str]:
    """What the reader should know is absent, in words."""
    missing = []
    if content.get("out_of_scope_count"):
        missing.append(f"{content['out_of_scope_count']} evidence item(s) linked only to "
                       f"incidents not in this edition are left out.")
    withheld = content.get("withheld_incidents", 0)
    if withheld:
        missing.append(f"{withheld} incident(s) withheld from this edition.")
    elif not content["incidents"] and not content.get("excluded_incidents"):
        missing.append("The case has no incident recorded.")
    for incident in content["incidents"]:
        missing += _incident_gaps(incident)
    for item in content["evidence"]:
        missing += _custody_gaps(item)
        thumb = item.get("thumbnail")
        if thumb and not thumb["present"]:
            missing.append(f"Evidence {item['ref']}: its thumbnail file is missing from the "
                           f"store; the image is not shown.")
        if not item["custody"]:
            missing.append(f"Evidence {item['ref']}: no custody event recorded.")
    for provision in content["provisions"]:
        if provision["corrected"]:
            missing.append(f"{provision['key']} was corrected in the catalogue after "
                           f"publication (version {provision['catalogue_version']}); elements "
                           f"are shown as corrected.")
    return missing


def _incident_gaps(incident: dict) -> list[str]:
    """What a reader should know of one incident: not approved, no evidence or qualification,
    applicability and jurisdiction warnings, elements unsupported or contradicted."""
    ref, gaps = incident["ref"], []
    if incident["workflow_status"] != WorkflowStatus.approved.value:
        gaps.append(f"Incident {ref} is not approved (workflow status: "
                    f"{label(incident['workflow_status'])}).")
    if not incident["evidence"] and not incident["withheld_evidence"]:
        gaps.append(f"Incident {ref} has no evidence linked to it.")
    if not incident["qualifications"]:
        gaps.append(f"Incident {ref} has no legal qualification yet.")
    for q in incident["qualifications"]:
        key = q["provision_key"]
        for warning in q["warnings"]:
            gaps.append(f"Incident {ref}, {key}: {warning['message']}")
        for element in q["elements"]:
            if not element["supported"]:
                gaps.append(f"Incident {ref}, {key} element {element['number']}: no supporting "
                            f"evidence cited.")
            for cited in element["evidence"]:
                if cited["stance"] == "contradicts":
                    gaps.append(f"Incident {ref}, {key} element {element['number']}: evidence "
                                f"{cited['ref']} contradicts it.")
    return gaps


def _custody_gaps(item: dict) -> list[str]:
    """The custody warnings of one item shown or described: the chain's and each event's."""
    gaps = [f"Evidence {item['ref']}, custody: {w}" for w in item.get("custody_warnings", [])]
    for event in item["custody"]:
        day = (event["occurred_at"] or "")[:10]
        gaps += [f"Evidence {item['ref']}, custody ({day}): {w}" for w in event["warnings"]]
    return gaps
