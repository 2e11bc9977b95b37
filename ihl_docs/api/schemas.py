"""What the API accepts and answers: the shared models, made strict, and the API's own.

The shared create models ignore unknown fields; the API refuses them, so a misspelt field is
reported instead of silently dropped.
"""

from datetime import date, datetime
from functools import cache
from typing import Any, Literal, Optional

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from ihl_docs.core import models
from ihl_docs.core.models import (
    Applicability,
    Assessment,
    Attribution,
    CaseRead,
    CustodyEventRead,
    DossierAudience,
    DossierStatus,
    ElementStatus,
    EvidenceKind,
    EvidenceRead,
    FindingKind,
    IncidentRead,
    IncidentType,
    Role,
    RunStatus,
    Sensitivity,
    Stance,
    VerificationStatus,
    WorkflowStatus,
)

STRICT = ConfigDict(extra="forbid")
MAX_OFFSET = 1_000_000_000


class PartyIn(models.PartyIn):
    model_config = STRICT


class CaseCreate(models.CaseCreate):
    model_config = STRICT

    parties: list[PartyIn] = Field(default_factory=list, max_length=50)


class IncidentCreate(models.IncidentCreate):
    model_config = STRICT


IncidentUpdate = models.IncidentUpdate  # already strict: every field optional, none unknown


class CustodyEventCreate(models.CustodyEventCreate):
    model_config = STRICT


def _plain_twin(model: type[BaseModel]) -> type[BaseModel]:
    """A plain pydantic model with the same fields and limits as `model`, unknown ones refused."""
    fields = {name: (info.annotation, FieldInfo.merge_field_infos(info))
              for name, info in model.model_fields.items()}
    return create_model(model.__name__ + "Twin", __config__=STRICT, **fields)


# SQLModel's own __init__ validates again in lax mode, so a strict check of a SQLModel body
# needs a plain pydantic twin with the same fields (JSON true is not 1, "3" is not 3).
TYPE_TWINS = {IncidentCreate: IncidentUpdate, CustodyEventCreate: _plain_twin(CustodyEventCreate)}


class MemberAdd(BaseModel):
    model_config = STRICT

    email: str = Field(min_length=3, max_length=254, description="the account to add")


class AttributionUpdate(BaseModel):
    """That a non-state party is alleged to act for, or under the control of, a state — or, with
    no state, that it no longer is."""

    model_config = STRICT

    party: str = Field(min_length=1, max_length=200, description="the name of a non-state party")
    attributed_state: Optional[str] = Field(
        default=None, max_length=200,
        description="ISO 3166-1 alpha-3 code, or the name of a state party of the case; "
                    "null withdraws the attribution")
    attribution: Optional[Attribution] = Field(
        default=None, description="acts_for, overall_control or effective_control")
    note: str = Field(default="", max_length=20_000, description="what the allegation rests on")
    evidence: list[str] = Field(default_factory=list, max_length=100,
                                description="refs of items of the case that support it")


class ProtectedTermCreate(BaseModel):
    """An entry for the case's register of protected terms."""

    model_config = STRICT

    kind: Literal["name", "phone", "email", "address", "place", "account", "other"] = Field(
        description="what the term is")
    match: Literal["text", "pattern"] = Field(
        default="text", description="text: in any case, with or without diacritics and "
                                    "spacing, whole words; pattern: a regular expression")
    term: str = Field(min_length=1, max_length=300, description="the term or pattern")
    note: str = Field(default="", max_length=2000, description="why it is protected (never printed)")


class ProtectedTermRead(BaseModel):
    number: int = Field(description="the N of the placeholder [protected N]")
    kind: str
    match: str = Field(description="text, pattern, or named (a staff member's consent to be named)")
    term: str
    note: str
    active: bool = Field(description="false once withdrawn: entries are never deleted")
    created_by: str
    created_at: datetime
    version: int


class ProtectedTermList(BaseModel):
    case_ref: str
    items: list[ProtectedTermRead]


class MemberRead(BaseModel):
    case_ref: str
    email: str
    name: str
    role: Role


class StatusChange(BaseModel):
    model_config = STRICT

    workflow_status: WorkflowStatus
    note: str = Field(default="", max_length=20_000,  # incidents.approval.MAX_NOTE
                      description="the approval note: why the incident is approved although "
                                  "elements are unsupported or its facts unverified (needed then)")


class EvidenceLinkCreate(BaseModel):
    model_config = STRICT

    evidence_ref: str = Field(min_length=1, max_length=80,
                              description="an item of the incident's case, e.g. NK-2020-001-E0001")
    relevance: str = Field(default="", max_length=20_000,
                           description="why the item matters to the incident")


class EvidenceLinkRead(BaseModel):
    incident_ref: str
    evidence_ref: str
    relevance: str
    linked_at: datetime
    linked_by: str


class CustodyEntry(CustodyEventRead):
    """A custody event with the gaps in the chain that show at it."""

    warnings: list[str] = Field(description="gaps in the chain that show at this event")


def _without_nulls(schema: dict) -> None:
    """A form field is sent or left out; it has no spelling for null."""
    for prop in schema.get("properties", {}).values():
        options = [s for s in prop.pop("anyOf", []) if s != {"type": "null"}]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if prop.get("default", "") is None:
            del prop["default"]


FILE_FIELD = "file"


class _UploadForm(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_nulls)


# The multipart form of an upload: the evidence record's fields, an optional incident to link
# the item to at once, and the file itself (left out for a physical item).
EvidenceUpload = create_model(
    "EvidenceUpload", __base__=_UploadForm,
    **{name: (info.annotation, FieldInfo.merge_field_infos(info))
       for name, info in models.EvidenceCreate.model_fields.items()},
    incident_ref=(Optional[str], Field(default=None, max_length=80,
                                       description="link the item to this incident of the case")),
    relevance=(str, Field(default="", max_length=20_000,
                          description="with incident_ref: why the item matters to it")),
    **{FILE_FIELD: (Optional[bytes], Field(default=None, description=(
        "the file, sent as a file part; its name is kept for display only. "
        "Left out for a physical item")))},
)


class ListQuery(BaseModel):
    model_config = STRICT

    limit: int = Field(default=50, ge=1, le=500, description="items per page")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET,
                        description="items to skip; the `next` link carries it")


class IncidentQuery(ListQuery):
    incident_type: Optional[IncidentType] = None
    verification_status: Optional[VerificationStatus] = None
    workflow_status: Optional[WorkflowStatus] = None
    q: Optional[str] = Field(default=None, max_length=200,
                             description="words that must all be in the title, place, "
                                         "narrative, weapon, munition details or ref (the "
                                         "last word may be the start of one)")
    date_from: Optional[AwareDatetime] = Field(
        default=None, description="incidents still going on at or after this time")
    date_to: Optional[AwareDatetime] = Field(
        default=None, description="incidents that began at or before this time")


class EvidenceQuery(ListQuery):
    kind: Optional[EvidenceKind] = None
    sensitivity: Optional[Sensitivity] = None
    incident: Optional[str] = Field(default=None, max_length=80,
                                    description="only items linked to this incident (its ref)")


class AuditQuery(BaseModel):
    model_config = STRICT

    after: int = Field(default=0, ge=0, le=2**31 - 1,  # seq is a 32-bit integer column
                       description="entries with a greater seq; the `next` link carries it")
    limit: int = Field(default=50, ge=1, le=500, description="items per page")


@cache
def list_of(item: type[BaseModel]) -> type[BaseModel]:
    """The answer of a list endpoint: one page of `item`s, the total and the next page's URL."""
    name = item.__name__.removesuffix("Read") + "List"
    return create_model(name, items=(list[item], ...), total=(int, ...),
                         next=(Optional[str], Field(description="URL of the next page")))


class FieldChange(BaseModel):
    field: str
    from_: Any = Field(alias="from")
    to: Any
    by: str
    at: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = Field(description="field name -> what is wrong with it")
    current_version: Optional[int] = Field(default=None, description="with stale_version")
    changes: Optional[list[FieldChange]] = Field(
        default=None, description="with stale_version: what others changed since your version")


class Error(BaseModel):
    error: ErrorDetail


class CustodyChain(BaseModel):
    items: list[CustodyEntry]
    total: int
    next: Optional[str] = Field(description="URL of the next page")
    warnings: list[str] = Field(description="gaps in the chain as a whole")


class ProvisionQuery(ListQuery):
    q: Optional[str] = Field(default=None, max_length=200,
                             description="words in the key, article, title or summary")
    instrument: Optional[str] = Field(default=None, max_length=60,
                                      description="an instrument's short name, e.g. AP I")
    category: Optional[str] = Field(default=None, max_length=60)
    applies_to: Optional[Literal["IAC", "NIAC"]] = Field(
        default=None, description="provisions governing that kind of conflict (or both kinds)")


class ProvisionElementRead(BaseModel):
    number: int
    text: str
    kind: str = Field(description="what the element is about: conduct, circumstance, "
                                  "consequence, mental, context or attribution (empty if not set)")


class ProvisionRead(BaseModel):
    key: str
    instrument: str = Field(description="the instrument's short name")
    instrument_name: str
    article: str
    title: str
    summary: str
    applies_to: Applicability
    category: str
    related: list[str] = Field(description="keys of related provisions")
    source_url: str
    verification: str
    notes: str
    elements_source: str
    version: int
    binds: str = Field(description="whom the provision binds: states, parties_to_conflict or "
                                   "individuals (empty if not set)")
    jurisdiction_note: str
    inoperative: bool = Field(description="true for a provision that cannot apply today "
                                          "(see notes), e.g. Rome Statute 8(2)(b)(xx)")
    elements: list[ProvisionElementRead]


class QualificationCreate(BaseModel):
    model_config = STRICT

    provision_key: str = Field(min_length=1, max_length=60,
                               description="a provision of the catalogue, e.g. rs-8-2-b-i")
    assessment: Assessment
    analysis: str = Field(default="", max_length=20_000)


class Citation(BaseModel):
    model_config = STRICT

    ref: str = Field(min_length=1, max_length=80,
                     description="an item of evidence linked to the incident")
    stance: Stance


class FindingUpdate(BaseModel):
    model_config = STRICT

    status: ElementStatus
    note: str = Field(default="", max_length=20_000)
    evidence: list[Citation] = Field(default_factory=list, max_length=200,
                                     description="replaces the evidence cited for the element")


class ElementFindingRead(BaseModel):
    number: int
    text: str
    kind: str = Field(default="", description="context, conduct, circumstance, consequence, "
                                              "mental or attribution; empty when not given")
    status: ElementStatus
    note: str
    evidence: list[Citation]


APPLICABILITY_CODES = (
    "state_not_party, not_yet_bound, withdrawn, iac_only, niac_only, inoperative, "
    "no_icc_jurisdiction, icc_jurisdiction (with its basis), attribution_needed, "
    "state_status_unknown, low_confidence, note (advice, not a warning); also "
    "classification_undetermined, not_in_force, state_since_unknown, bound_date_uncertain")


class ApplicabilityWarning(BaseModel):
    code: str = Field(description=f"stable: {APPLICABILITY_CODES}")
    message: str
    question: str = Field(description="binding, jurisdiction, attribution or conflict")
    warning: bool = Field(description="false for answers and advice (icc_jurisdiction, note)")
    facts: list[str] = Field(description="the dated, sourced facts the answer rests on")
    basis: Optional[str] = Field(
        description="for icc_jurisdiction: territory, nationality, declaration or referral")
    suggested_provisions: list[str] = Field(
        description="provision keys that do reach the conduct: customary rules for conduct; "
                    "other crimes and customary rules 156-157 for crimes")


class QualificationRead(BaseModel):
    id: int
    incident_ref: str
    provision_key: str
    provision_title: str
    assessment: Assessment
    analysis: str
    version: int
    elements_source: str = Field(default="", description="where the element texts come from")
    elements: list[ElementFindingRead]
    provision_binds: str = Field(description="states, parties_to_conflict or individuals")
    applicability: list[ApplicabilityWarning] = Field(
        description="every answer of the applicability check: binding, jurisdiction, attribution")
    warnings: list[ApplicabilityWarning] = Field(
        description="the answers of `applicability` that are warnings")


class DossierCreate(BaseModel):
    model_config = STRICT

    audience: DossierAudience
    prepared_by: Optional[str] = Field(
        default=None, max_length=200,
        description="the name printed on the cover; left out, the requesting user's name")
    incidents: Optional[list[str]] = Field(
        default=None, max_length=10_000,
        description="refs of the case's incidents the dossier covers; left out, every incident "
                    "for the internal audience and the approved ones for court and public")
    full_images: Optional[list[str]] = Field(
        default=None, max_length=200,
        description="refs of image items (JPEG, PNG) the edition shows, annexed at full "
                    "resolution; left out, thumbnails only")


DOSSIER_ID = "the dossier's reference, e.g. NK-2020-001-D001"


class DossierAccepted(BaseModel):
    """A dossier request as it was accepted; its build runs in the background."""

    id: str = Field(description=DOSSIER_ID)
    status: DossierStatus
    progress: int = Field(ge=0, le=100, description="percent")


class DossierRead(BaseModel):
    id: str = Field(description=DOSSIER_ID)
    case_ref: str
    status: DossierStatus
    progress: int = Field(ge=0, le=100, description="percent")
    stage: str = Field(description="what the build is doing, in words")
    audience: DossierAudience
    prepared_by: str
    requested_by: Optional[str] = Field(description="the requester's e-mail; null when the "
                                                    "`ihl dossier` command made it")
    sha256: Optional[str] = Field(description="of the PDF, once done")
    size: Optional[int] = Field(description="of the PDF in bytes, once done")
    page_count: Optional[int]
    case_fingerprint: Optional[str] = Field(
        description="SHA-256 over everything the dossier shows, as printed on its cover")
    signed_sha256: Optional[str] = Field(
        default=None, description="of the signed PDF that `/pdf` serves: the reproducible PDF "
                                  "(`sha256`) followed by the instance's signature; null for "
                                  "dossiers built before signing")
    signed_size: Optional[int] = Field(default=None, description="of the signed PDF in bytes")
    audit_seq_at_signing: Optional[int] = Field(
        default=None, description="the audit log's last seq when the dossier was signed")
    error: Optional[str] = Field(description="why it failed, when it failed")
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]


class AuditEntryRead(BaseModel):
    """One entry of the audit log as exported: `hash` covers every other field."""

    seq: int
    prev_hash: str = Field(description="the previous entry's hash (64 zeros before the first)")
    hash: str = Field(description="SHA-256 over the canonical JSON of the entry and prev_hash")
    occurred_at: datetime
    actor: str
    action: str
    entity: str = Field(description="the kind of record, e.g. incident, evidence, custody_event")
    entity_id: str = Field(description="the record's ref (or id)")
    case_ref: Optional[str]
    change: Any = Field(description="{before, after}: the record's audited fields")


CaseList = list_of(CaseRead)
IncidentList = list_of(IncidentRead)
EvidenceList = list_of(EvidenceRead)
ProvisionList = list_of(ProvisionRead)
QualificationList = list_of(QualificationRead)
DossierList = list_of(DossierRead)
AuditEntryList = list_of(AuditEntryRead)


class VerificationReport(BaseModel):
    ok: bool = Field(description="true when no problem was found")
    files: int = Field(description="stored files re-hashed (evidence, thumbnails, dossiers)")
    dossiers: int = Field(description="of those, dossier PDFs")
    custody_events: int = Field(description="custody events held against the audit entries "
                                            "that recorded them")
    records: int = Field(description="records of every audited kind (cases, members, accounts, "
                                     "incidents, evidence, custody events, qualifications, "
                                     "dossiers …) held against the replayed audit log")
    audit_entries: int = Field(description="audit entries whose hashes were recomputed")
    checkpoints: int = Field(description="signed checkpoints the chain was held against")
    problems: list[str] = Field(description="each problem, naming the evidence ref, dossier or "
                                            "audit seq it concerns")
    warnings: list[str] = Field(description="files and folders of the instance that others "
                                            "may read or write, each with its mode and the mode "
                                            "expected; they do not make `ok` false")


class VerificationCreate(BaseModel):
    model_config = STRICT

    case_ref: Optional[str] = Field(
        default=None, max_length=40,
        description="verify this case's files, dossiers and custody events (and the whole "
                    "audit chain); left out, everything")


RUN_ID = "the verification's reference, e.g. VER-00012"


class VerificationAccepted(BaseModel):
    """A verification as it was accepted; it runs in the background."""

    id: str = Field(description=RUN_ID)
    status: RunStatus
    progress: int = Field(ge=0, le=100, description="percent")


class VerificationFindingRead(BaseModel):
    number: int
    kind: FindingKind
    subject: str = Field(description="the evidence ref, dossier ref or \"seq N\" it concerns")
    message: str
    acknowledged_at: Optional[datetime]
    acknowledged_by: str
    acknowledgement: str = Field(description="the auditor's note, once acknowledged")


class VerificationRead(BaseModel):
    id: str = Field(description=RUN_ID)
    case_ref: Optional[str] = Field(description="the case verified; null: everything")
    status: RunStatus
    progress: int = Field(ge=0, le=100, description="percent")
    stage: str
    error: str = Field(description="why it could not be completed, when it failed")
    requested_by: str
    files_checked: int
    bytes_checked: int
    dossiers_checked: int
    custody_checked: int
    records_checked: int
    audit_checked: int
    checkpoints_checked: int
    audit_head_seq: Optional[int] = Field(description="the last audit entry checked")
    audit_head_hash: Optional[str]
    problem_count: int
    findings: list[VerificationFindingRead]
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]


class ParticipationRead(BaseModel):
    instrument: str = Field(description="the instrument's short name, e.g. Rome Statute")
    state: str = Field(description="ISO 3166 alpha-3")
    status: str = Field(description="party, not_party, signatory, withdrawn or unknown")
    deposit: Optional[str] = Field(description="YYYY or YYYY-MM-DD")
    action: str
    signature: Optional[str]
    in_force_for_state: Optional[date]
    withdrawal_effective: Optional[date]
    source: str
    confidence: str = Field(description="high, medium or low")
    notes: str
    origin: str = Field(description="catalogue, or team (entered or corrected by the legal "
                                    "team; kept over catalogue upgrades)")
    entered_by: str
    entered_at: Optional[datetime]
    version: int


class IccFactRead(BaseModel):
    key: str = Field(description='e.g. "declaration:CIV:2003-04-18"')
    kind: str = Field(description="declaration, referral or withdrawal")
    state: str
    situation: str
    reference: str
    lodged_on: Optional[date]
    period_from: Optional[date]
    period_to: Optional[date]
    in_effect: bool
    status: str
    source: str
    confidence: str
    notes: str
    origin: str
    entered_by: str
    entered_at: Optional[datetime]
    version: int


class TreatyState(BaseModel):
    state: str
    name: str
    rows: list[ParticipationRead] = Field(description="the state's rows, one per instrument "
                                                      "that has one")
    unknown: list[str] = Field(description="instruments without a row for the state: unknown, "
                                           "never 'not a party'")
    icc: list[IccFactRead]
