"""Every table of ihl_docs, and the enumerations its fields take."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Optional

import pycountry
import sqlalchemy as sa
from pydantic import (
    AwareDatetime,
    BaseModel,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from sqlmodel import Field, SQLModel

from ihl_docs.core import localtime
from ihl_docs.core.dbtypes import JSONList, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(StrEnum):
    admin = "admin"
    investigator = "investigator"
    legal = "legal"
    auditor = "auditor"


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class ConflictClassification(StrEnum):
    international = "international"
    non_international = "non-international"
    both = "both"
    undetermined = "undetermined"


class PartyKind(StrEnum):
    state = "state"
    non_state = "non-state"


class IncidentType(StrEnum):
    shelling = "shelling"
    air_strike = "air_strike"
    drone_strike = "drone_strike"
    cluster_munition = "cluster_munition"
    rocket = "rocket"
    landmine = "landmine"
    attack_on_medical_care = "attack_on_medical_care"
    attack_on_infrastructure = "attack_on_infrastructure"
    displacement = "displacement"
    ill_treatment = "ill_treatment"
    other = "other"


class DatePrecision(StrEnum):
    exact = "exact"
    day = "day"
    month = "month"
    approximate = "approximate"


class VerificationStatus(StrEnum):
    unverified = "unverified"
    partly_verified = "partly_verified"
    verified = "verified"
    disputed = "disputed"


class WorkflowStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    in_legal_review = "in_legal_review"
    approved = "approved"


class CivilianObject(StrEnum):
    residential = "residential"
    medical = "medical"
    school = "school"
    place_of_worship = "place_of_worship"
    cultural_property = "cultural_property"
    water = "water"
    power = "power"
    market = "market"
    shelter = "shelter"
    other = "other"


class EvidenceKind(StrEnum):
    photo = "photo"
    video = "video"
    audio = "audio"
    document = "document"
    testimony = "testimony"
    open_source_post = "open_source_post"
    satellite_image = "satellite_image"
    physical_item = "physical_item"
    expert_report = "expert_report"


class Sensitivity(StrEnum):
    public = "public"
    restricted = "restricted"
    confidential = "confidential"


class Reliability(StrEnum):
    """Source reliability (Admiralty code): A completely reliable … F cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Credibility(StrEnum):
    """Information credibility (Admiralty code): 1 confirmed … 6 cannot be judged."""

    c1 = "1"
    c2 = "2"
    c3 = "3"
    c4 = "4"
    c5 = "5"
    c6 = "6"


class CustodyAction(StrEnum):
    collected = "collected"
    received = "received"
    transferred = "transferred"
    copied = "copied"
    analysed = "analysed"
    sealed = "sealed"
    stored = "stored"
    accessed = "accessed"
    exported = "exported"
    released = "released"


class Applicability(StrEnum):
    """Which armed conflicts a provision governs."""

    IAC = "IAC"
    NIAC = "NIAC"
    both = "both"


class Assessment(StrEnum):
    alleged = "alleged"
    probable = "probable"
    established = "established"
    excluded = "excluded"


class ElementStatus(StrEnum):
    not_assessed = "not_assessed"
    supported = "supported"
    contested = "contested"
    not_met = "not_met"


class Stance(StrEnum):
    supports = "supports"
    contradicts = "contradicts"
    context = "context"


class DossierAudience(StrEnum):
    internal = "internal"
    court = "court"
    public = "public"


class DossierStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RunStatus(StrEnum):
    """Where a verification run is: the same steps as a dossier build."""
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class FindingKind(StrEnum):
    """What a verification finding concerns."""
    evidence = "evidence"      # a stored evidence file or derivative
    dossier = "dossier"        # a stored dossier PDF
    custody = "custody"        # a custody event against its audit entry
    record = "record"          # any other record against the audit entries that made it
    audit = "audit"            # the audit chain
    checkpoint = "checkpoint"  # a signed checkpoint of the chain


MAX_COUNT = 10_000_000


def label(value: str) -> str:
    """How an enumerated value reads on a page: 'in_legal_review' -> 'In legal review'."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _enum(size: int = 32):
    return sa.String(size)


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True, index=True)
    name: str = Field(default="", sa_type=sa.String(200))
    role: str = Field(sa_type=_enum(16))
    password_hash: str = Field(sa_type=sa.String(255))
    is_active: bool = Field(default=True)
    must_change_password: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class LoginSession(SQLModel, table=True):
    """A server-side login session: logging out or expiry ends it for good."""

    __tablename__ = "login_session"

    id: str = Field(primary_key=True, sa_type=sa.String(64))  # sha256 of the cookie's token
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed log-in attempts per account name (known or not), keyed by a keyed hash."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, sa_type=sa.String(64))
    failures: int = Field(default=0)
    first_failure_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", sa_type=sa.String(200))
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


def _valid_state_code(code: Optional[str]) -> Optional[str]:
    if code is None or code == "":
        return None
    code = code.strip().upper()
    if pycountry.countries.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-3 country code")
    return code


class CaseBase(SQLModel):
    title: str = Field(min_length=1, max_length=300, sa_type=sa.String(300))
    summary: str = Field(default="", max_length=50_000, sa_type=sa.Text)
    conflict_classification: ConflictClassification = Field(
        default=ConflictClassification.undetermined, sa_type=_enum(20)
    )

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title must not be blank")
        return value.strip()


class Case(CaseBase, table=True):
    __tablename__ = "case"

    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(sa_type=sa.String(40), unique=True, index=True)
    status: CaseStatus = Field(default=CaseStatus.open, sa_type=_enum(16))
    incident_counter: int = Field(default=0)
    evidence_counter: int = Field(default=0)
    dossier_counter: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    version: int = Field(default=1)


class CaseMember(SQLModel, table=True):
    __tablename__ = "case_member"

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    added_by_id: Optional[int] = Field(default=None, foreign_key="user.id")


class TermMatch(StrEnum):
    """How an entry of a case's protected-terms register finds what it protects."""

    text = "text"        # the term, in any case, with or without diacritics and spacing
    pattern = "pattern"  # a regular expression given by the team
    named = "named"      # not a term: a staff member's consent to be named in this case


class ProtectedTerm(SQLModel, table=True):
    """One entry of a case's register of protected terms: a name, phone number, address,
    place or account handle that court and public dossiers replace with "[protected N]".
    Entries are never deleted: a withdrawn one is kept inactive."""

    __tablename__ = "protected_term"
    __table_args__ = (sa.UniqueConstraint("case_id", "number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    number: int  # 1, 2, … within the case: the N of "[protected N]"
    kind: str = Field(sa_type=sa.String(16))  # name, phone, email, address, place, account, other
    match: TermMatch = Field(sa_type=_enum(16))
    term: str = Field(sa_type=sa.Text)
    note: str = Field(default="", sa_type=sa.Text)
    active: bool = Field(default=True)
    created_by: str = Field(default="", sa_type=sa.String(254))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class Attribution(StrEnum):
    """How a party's conduct is alleged to be attributable to a state (ILC ARSIWA arts 4-8)."""

    acts_for = "acts_for"                    # an organ, or on its instructions (arts 4-5, 8)
    overall_control = "overall_control"      # Tadić: organised group under overall control
    effective_control = "effective_control"  # Nicaragua / art. 8: control of the operation


class PartyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, sa_type=sa.String(200))
    kind: PartyKind = Field(sa_type=_enum(16))
    state_code: Optional[str] = Field(default=None, max_length=3, sa_type=sa.String(3))
    # Alleged: the party acts for, or under the control of, this state (ISO 3166-1 alpha-3).
    attributed_state: Optional[str] = Field(default=None, max_length=3, sa_type=sa.String(3))
    attribution: Optional[Attribution] = Field(default=None, sa_type=_enum(24))
    attribution_note: str = Field(default="", max_length=20_000, sa_type=sa.Text)
    attribution_evidence: list[str] = Field(default_factory=list, max_length=100, sa_type=JSONList)


class Party(PartyBase, table=True):
    __tablename__ = "party"
    __table_args__ = (sa.UniqueConstraint("case_id", "name", name="uq_party_case_id_name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)


class PartyIn(PartyBase):
    # A state code (ISO 3166-1 alpha-3) or the name of one of the case's state parties.
    attributed_state: Optional[str] = Field(
        default=None, max_length=200,
        description="the state the party is alleged to act for or under the control of: its "
                    "ISO 3166-1 alpha-3 code, or the name of a state party of the case")

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name must not be blank")
        return value.strip()

    @field_validator("state_code", mode="before")
    @classmethod
    def _state_code(cls, value):
        return _valid_state_code(value) if isinstance(value, str) or value is None else value

    @model_validator(mode="after")
    def _state_code_matches_kind(self):
        if self.kind == PartyKind.state and not self.state_code:
            raise ValueError("state_code: a state party needs its ISO 3166-1 alpha-3 code")
        if self.kind == PartyKind.non_state and self.state_code:
            raise ValueError("state_code: a non-state party has no state code")
        if self.attributed_state is not None and not self.attributed_state.strip():
            self.attributed_state = None
        attributed = self.attributed_state or self.attribution
        if attributed and self.kind == PartyKind.state:
            raise ValueError("attributed_state: a state party's conduct is its own; only a "
                             "non-state party is attributed to a state")
        if attributed and not (self.attributed_state and self.attribution):
            raise ValueError("attribution: give both the state and how the party is alleged "
                             "to act for it (acts_for, overall_control or effective_control)")
        if not attributed and (self.attribution_note.strip() or self.attribution_evidence):
            raise ValueError("attributed_state: a note or evidence of attribution needs the "
                             "state it attributes the party's conduct to")
        return self


CASE_REF_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,38}[A-Z0-9]$"


class CaseCreate(CaseBase):
    ref: Annotated[str, StringConstraints(pattern=CASE_REF_PATTERN)] = Field(
        description="e.g. NK-2020-001: 3 to 40 capital letters, digits and hyphens"
    )
    parties: list[PartyIn] = Field(default_factory=list, max_length=50)

    @field_validator("ref", mode="before")
    @classmethod
    def _upper_ref(cls, value):
        return value.strip().upper() if isinstance(value, str) else value


class CaseUpdate(CaseBase):
    parties: list[PartyIn] = Field(default_factory=list, max_length=50)


class PartyRead(PartyBase):
    pass


class CaseRead(CaseBase):
    ref: str
    status: CaseStatus
    parties: list[PartyRead]
    members: list[str]
    incidents: list[str]
    evidence: list[str]
    version: int
    created_at: datetime


class IncidentBase(SQLModel):
    title: str = Field(min_length=1, max_length=300, sa_type=sa.String(300))
    incident_type: IncidentType = Field(sa_type=_enum(32))
    occurred_from: AwareDatetime = Field(sa_type=UTCDateTime)
    occurred_to: Optional[AwareDatetime] = Field(default=None, sa_type=UTCDateTime)
    # Where the incident happened in time: an IANA zone ("Asia/Baku"), or else a fixed offset
    # from UTC in minutes; neither known: the times are shown as UTC and marked so.
    time_zone: str = Field(default="", max_length=64, sa_type=sa.String(64),
                           description='the IANA zone where it happened, e.g. Asia/Baku; "" if '
                                       'not known')
    utc_offset_minutes: Optional[int] = Field(
        default=None, ge=-14 * 60, le=14 * 60,
        description="the local offset from UTC in minutes (240 for +04:00), when no zone is known")
    date_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=_enum(16))
    place_name: str = Field(default="", max_length=300, sa_type=sa.String(300))
    admin_area: str = Field(default="", max_length=300, sa_type=sa.String(300))
    country: Optional[str] = Field(default=None, max_length=3, sa_type=sa.String(3))
    latitude: Optional[float] = Field(default=None, ge=-90, le=90)
    longitude: Optional[float] = Field(default=None, ge=-180, le=180)
    location_precision_m: Optional[int] = Field(default=None, ge=0, le=1_000_000)
    weapon_type: str = Field(default="", max_length=300, sa_type=sa.String(300))
    munition_details: str = Field(default="", max_length=20_000, sa_type=sa.Text)
    narrative: str = Field(default="", max_length=200_000, sa_type=sa.Text)
    killed_min: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    killed_max: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    injured_min: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    injured_max: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    children_killed: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    children_injured: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    civilian_objects: list[CivilianObject] = Field(default_factory=list, sa_type=JSONList)
    military_objective_notes: str = Field(default="", max_length=20_000, sa_type=sa.Text)
    verification_status: VerificationStatus = Field(
        default=VerificationStatus.unverified, sa_type=_enum(20)
    )


class Incident(IncidentBase, table=True):
    __tablename__ = "incident"
    # The list's order (newest first), across cases and within one, with the filtered columns
    # so that filtering and counting read only the index; word search: migration 0007.
    __table_args__ = (
        sa.Index("ix_incident_list", "occurred_from", "id", "case_id", "occurred_to",
                 "incident_type", "workflow_status", "verification_status"),
        sa.Index("ix_incident_case_list", "case_id", "occurred_from", "id", "occurred_to",
                 "incident_type", "workflow_status", "verification_status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(sa_type=sa.String(60), unique=True, index=True)
    case_id: int = Field(foreign_key="case.id")
    responsible_party_id: Optional[int] = Field(default=None, foreign_key="party.id")
    workflow_status: WorkflowStatus = Field(default=WorkflowStatus.draft, sa_type=_enum(20))
    # Why it was approved although elements were unsupported or the facts unverified.
    approval_note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class IncidentCreate(IncidentBase):
    responsible_party: Optional[str] = Field(
        default=None, max_length=200, description="the name of one of the case's parties"
    )

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value):
        return _valid_state_code(value) if isinstance(value, str) or value is None else value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title must not be blank")
        return value.strip()

    @field_validator("time_zone", mode="before")
    @classmethod
    def _time_zone(cls, value):
        if not isinstance(value, str):
            return value
        value = value.strip()
        if value and not localtime.is_zone(value):
            raise ValueError(f"{value!r} is not a time zone of the IANA database; give one such "
                             f"as Asia/Baku, or a UTC offset")
        return value

    @field_validator("utc_offset_minutes", mode="before")
    @classmethod
    def _utc_offset_minutes(cls, value):
        problem = localtime.offset_problem(value) if isinstance(value, int) else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("occurred_from", "occurred_to")
    @classmethod
    def _written_offset(cls, value):
        problem = localtime.offset_problem(localtime.offset_minutes(value)) if value else None
        if problem:
            raise ValueError(problem)
        return value


def _all_optional(model: type[SQLModel], name: str) -> type[BaseModel]:
    """The same fields and rules as `model`, each optional: the body of a PATCH."""
    fields = {
        field: (Optional[info.annotation], FieldInfo.merge_field_infos(info, default=None))
        for field, info in model.model_fields.items()
    }
    return create_model(name, __base__=BaseModel, **fields)


IncidentUpdate = _all_optional(IncidentCreate, "IncidentUpdate")
IncidentUpdate.model_config["extra"] = "forbid"
IncidentUpdate.model_rebuild(force=True)


class IncidentRead(IncidentBase):
    ref: str
    case_ref: str
    # The moments in the incident's local time, ISO 8601 with the local offset (every other
    # time is given in UTC); null when no zone or offset is recorded.
    occurred_from_local: Optional[str] = Field(
        default=None, description="occurred_from in local time, e.g. 2020-10-04T00:30:00+04:00")
    occurred_to_local: Optional[str] = Field(default=None,
                                             description="occurred_to in local time")
    # The local calendar date of the start (its UTC date when no zone is recorded).
    local_date: Optional[date] = None
    responsible_party: Optional[str]
    workflow_status: WorkflowStatus
    approval_note: str = ""
    version: int
    created_at: datetime
    updated_at: datetime


class EvidenceBase(SQLModel):
    kind: EvidenceKind = Field(sa_type=_enum(24), index=True)
    title: str = Field(min_length=1, max_length=300, sa_type=sa.String(300))
    description: str = Field(default="", max_length=50_000, sa_type=sa.Text)
    source_url: str = Field(default="", max_length=2000, sa_type=sa.String(2000))
    source_platform: str = Field(default="", max_length=200, sa_type=sa.String(200))
    source_author: str = Field(default="", max_length=300, sa_type=sa.String(300))
    published_at: Optional[AwareDatetime] = Field(default=None, sa_type=UTCDateTime)
    acquired_at: Optional[AwareDatetime] = Field(default=None, sa_type=UTCDateTime)
    acquired_by: str = Field(default="", max_length=300, sa_type=sa.String(300))
    acquisition_method: str = Field(default="", max_length=2000, sa_type=sa.Text)
    sensitivity: Sensitivity = Field(default=Sensitivity.restricted, sa_type=_enum(16))
    reliability: Optional[Reliability] = Field(default=None, sa_type=_enum(1))
    credibility: Optional[Credibility] = Field(default=None, sa_type=_enum(1))

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title must not be blank")
        return value.strip()


class Evidence(EvidenceBase, table=True):
    """An item of evidence: a stored file (by its SHA-256) or a physical item, with its record."""

    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("case_id", "sha256", name="uq_evidence_case_id_sha256"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(sa_type=sa.String(60), unique=True, index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    original_filename: str = Field(default="", sa_type=sa.String(255))
    sha256: Optional[str] = Field(default=None, sa_type=sa.String(64), index=True)
    size: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    media_type: str = Field(default="", sa_type=sa.String(200))
    capture_time: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    capture_latitude: Optional[float] = Field(default=None)
    capture_longitude: Optional[float] = Field(default=None)
    capture_device: str = Field(default="", sa_type=sa.String(300))
    metadata_note: str = Field(default="", sa_type=sa.String(500))
    parent_id: Optional[int] = Field(default=None, foreign_key="evidence.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    version: int = Field(default=1)


class EvidenceCreate(EvidenceBase):
    pass


class EvidenceRead(EvidenceBase):
    ref: str
    case_ref: str
    original_filename: str
    sha256: Optional[str]
    size: Optional[int]
    media_type: str
    capture_time: Optional[datetime]
    capture_latitude: Optional[float]
    capture_longitude: Optional[float]
    capture_device: str
    parent_ref: Optional[str]
    incidents: list[str]
    thumbnail_sha256: Optional[str]
    version: int
    created_at: datetime


class EvidenceDerivative(SQLModel, table=True):
    """A file made from an original (a thumbnail), stored beside it, never replacing it."""

    __tablename__ = "evidence_derivative"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "purpose",
                                          name="uq_evidence_derivative_evidence_id_purpose"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    purpose: str = Field(sa_type=sa.String(20))
    sha256: str = Field(sa_type=sa.String(64))
    size: int = Field(sa_type=sa.BigInteger)
    media_type: str = Field(sa_type=sa.String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IncidentEvidence(SQLModel, table=True):
    __tablename__ = "incident_evidence"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, index=True)
    relevance: str = Field(default="", sa_type=sa.Text)
    linked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    linked_by_id: Optional[int] = Field(default=None, foreign_key="user.id")


class CustodyEventBase(SQLModel):
    action: CustodyAction = Field(sa_type=_enum(16))
    occurred_at: AwareDatetime = Field(sa_type=UTCDateTime)
    custodian_from: str = Field(default="", max_length=300, sa_type=sa.String(300))
    custodian_to: str = Field(default="", max_length=300, sa_type=sa.String(300))
    place: str = Field(default="", max_length=300, sa_type=sa.String(300))
    purpose: str = Field(default="", max_length=2000, sa_type=sa.Text)
    notes: str = Field(default="", max_length=20_000, sa_type=sa.Text)


class CustodyEvent(CustodyEventBase, table=True):
    """One step in an item's chain of custody; rows are only ever added."""

    __tablename__ = "custody_event"

    id: Optional[int] = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    actor: str = Field(sa_type=sa.String(300))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sha256_observed: Optional[str] = Field(default=None, sa_type=sa.String(64))
    hash_matched: Optional[bool] = Field(default=None)


class CustodyEventCreate(CustodyEventBase):
    pass


class CustodyEventRead(CustodyEventBase):
    actor: str
    recorded_at: datetime
    sha256_observed: Optional[str]
    hash_matched: Optional[bool]


class Instrument(SQLModel, table=True):
    """A treaty, study or other source of the provisions (e.g. AP I, CIHL, Rome Statute)."""

    __tablename__ = "instrument"

    id: Optional[int] = Field(default=None, primary_key=True)
    short_name: str = Field(sa_type=sa.String(100), unique=True, index=True)
    name: str = Field(sa_type=sa.Text)
    type: str = Field(default="", sa_type=sa.String(200))
    # As researched: an ISO date, possibly followed by a remark ("1989-12-04 (UNGA res. 44/34)").
    adopted: str = Field(default="", sa_type=sa.String(300))
    entry_into_force: str = Field(default="", sa_type=sa.String(300))
    depositary: str = Field(default="", sa_type=sa.String(200))
    notes: str = Field(default="", sa_type=sa.Text)


class InstrumentParty(SQLModel, table=True):
    """A state's status under an instrument, and since when it is bound."""

    __tablename__ = "instrument_party"
    __table_args__ = (sa.UniqueConstraint("instrument_id", "state",
                                          name="uq_instrument_party_instrument_id_state"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    state: str = Field(sa_type=sa.String(3))
    status: str = Field(sa_type=sa.String(40))  # party, not_party, signatory, withdrawn, unknown
    since: Optional[str] = Field(default=None, sa_type=sa.String(10))  # YYYY or YYYY-MM-DD
    detail: str = Field(default="", sa_type=sa.Text)
    confidence: str = Field(default="", sa_type=sa.String(200))  # high, medium, low
    deposit: Optional[str] = Field(default=None, sa_type=sa.String(10))  # YYYY or YYYY-MM-DD
    action: str = Field(default="", sa_type=sa.String(40))  # ratification, accession, …
    signature: Optional[str] = Field(default=None, sa_type=sa.String(10))
    in_force_for_state: Optional[date] = Field(default=None)
    withdrawal_effective: Optional[date] = Field(default=None)
    source: str = Field(default="", sa_type=sa.Text)
    # "catalogue": as the bundled data says; "team": entered or corrected by the legal team,
    # kept over catalogue upgrades unless the team takes the new version.
    origin: str = Field(default="catalogue", sa_type=sa.String(16))
    entered_by: str = Field(default="", sa_type=sa.String(254))
    entered_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class IccBasis(SQLModel, table=True):
    """A fact the ICC's jurisdiction rests on besides states parties: an art. 12(3) declaration
    (period covered), a Security Council referral (art. 13(b)) or a withdrawal (art. 127)."""

    __tablename__ = "icc_basis"

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.String(80), unique=True, index=True)  # "declaration:CIV:2003-04-18"
    kind: str = Field(sa_type=sa.String(16))  # declaration, referral, withdrawal
    state: str = Field(sa_type=sa.String(3))
    situation: str = Field(default="", sa_type=sa.String(300))
    reference: str = Field(default="", sa_type=sa.String(300))  # e.g. S/RES/1593 (2005)
    lodged_on: Optional[date] = Field(default=None)  # lodged, adopted or notified
    period_from: Optional[date] = Field(default=None)  # covered from / effective from
    period_to: Optional[date] = Field(default=None)
    in_effect: bool = Field(default=True)  # a declaration without legal effect, a revoked withdrawal
    status: str = Field(default="", sa_type=sa.String(40))
    source: str = Field(default="", sa_type=sa.Text)
    confidence: str = Field(default="", sa_type=sa.String(20))
    notes: str = Field(default="", sa_type=sa.Text)
    origin: str = Field(default="catalogue", sa_type=sa.String(16))
    entered_by: str = Field(default="", sa_type=sa.String(254))
    entered_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class Provision(SQLModel, table=True):
    __tablename__ = "provision"

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.String(60), unique=True, index=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    article: str = Field(sa_type=sa.String(60))
    title: str = Field(sa_type=sa.String(300))
    summary: str = Field(default="", sa_type=sa.Text)
    applies_to: str = Field(sa_type=_enum(8))
    category: str = Field(default="", sa_type=sa.String(60), index=True)
    related: list = Field(default_factory=list, sa_type=JSONList)
    source_url: str = Field(default="", sa_type=sa.String(500))
    verification: str = Field(default="", sa_type=sa.String(40))
    elements_source: str = Field(default="", sa_type=sa.Text)
    notes: str = Field(default="", sa_type=sa.Text)
    binds: str = Field(default="", sa_type=sa.String(24))  # states, parties_to_conflict, individuals
    jurisdiction_note: str = Field(default="", sa_type=sa.Text)
    inoperative: bool = Field(default=False)  # e.g. Rome Statute 8(2)(b)(xx): no annex adopted
    version: int = Field(default=1)


class ProvisionElement(SQLModel, table=True):
    __tablename__ = "provision_element"
    __table_args__ = (sa.UniqueConstraint("provision_id", "number",
                                          name="uq_provision_element_provision_id_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    provision_id: int = Field(foreign_key="provision.id", index=True)
    number: int
    text: str = Field(sa_type=sa.Text)
    kind: str = Field(default="", sa_type=sa.String(16))  # conduct, circumstance, consequence, …


class Qualification(SQLModel, table=True):
    """A lawyer's view that an incident may breach a provision."""

    __tablename__ = "qualification"
    __table_args__ = (sa.UniqueConstraint("incident_id", "provision_id",
                                          name="uq_qualification_incident_id_provision_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    provision_id: int = Field(foreign_key="provision.id", index=True)
    assessment: str = Field(sa_type=_enum(16))
    analysis: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class ElementFinding(SQLModel, table=True):
    """The finding on one element of the provision, for one qualification."""

    __tablename__ = "element_finding"
    __table_args__ = (sa.UniqueConstraint("qualification_id", "element_number",
                                          name="uq_element_finding_qualification_id_element_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    qualification_id: int = Field(foreign_key="qualification.id", index=True)
    element_number: int
    status: str = Field(default=ElementStatus.not_assessed, sa_type=_enum(16))
    note: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ElementEvidence(SQLModel, table=True):
    """Evidence cited for an element finding, as supporting, contradicting or context."""

    __tablename__ = "element_evidence"

    finding_id: int = Field(foreign_key="element_finding.id", primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, index=True)
    stance: str = Field(sa_type=_enum(16))


class SuggestionRule(SQLModel, table=True):
    """Editable mapping: incidents of this type (and weapon words) suggest this provision."""

    __tablename__ = "suggestion_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_type: Optional[str] = Field(default=None, sa_type=_enum(32))
    weapon_keyword: str = Field(default="", sa_type=sa.String(100))
    requires_civilian_objects: bool = Field(default=False)
    provision_key: str = Field(sa_type=sa.String(60))
    reason: str = Field(default="", sa_type=sa.String(500))
    active: bool = Field(default=True)


class Dossier(SQLModel, table=True):
    """A generated case dossier: the request, the job's progress, and the stored PDF."""

    __tablename__ = "dossier"

    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(sa_type=sa.String(60), unique=True, index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    audience: DossierAudience = Field(sa_type=_enum(16))
    prepared_by: str = Field(sa_type=sa.String(200))
    # The incidents it covers: canonical JSON list of refs; '' before scopes were recorded.
    incident_refs: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    # Court and public editions: who confirmed the disclosure check and which one (canonical
    # JSON), or that the request came through the API or the command line without it.
    disclosure: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    # Items whose image is annexed at full resolution: canonical JSON list of refs; '' for none.
    full_image_refs: str = Field(default="", sa_type=sa.Text,
                                 sa_column_kwargs={"server_default": ""})
    requested_by_id: Optional[int] = Field(default=None, foreign_key="user.id")  # None: the CLI
    status: DossierStatus = Field(default=DossierStatus.queued, sa_type=_enum(16), index=True)
    stage: str = Field(default="", sa_type=sa.String(200))
    progress: int = Field(default=0)
    error: str = Field(default="", sa_type=sa.Text)
    sha256: Optional[str] = Field(default=None, sa_type=sa.String(64))
    size: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    page_count: Optional[int] = Field(default=None)
    case_fingerprint: Optional[str] = Field(default=None, sa_type=sa.String(64))
    manifest: str = Field(default="", sa_type=sa.Text)  # canonical JSON, as the PDF carries it
    audit_head_seq: Optional[int] = Field(default=None)  # the chain's head when it was finished
    audit_head_hash: Optional[str] = Field(default=None, sa_type=sa.String(64))
    # The signed file: the reproducible PDF (sha256 above) followed by the instance's PAdES
    # signature as an incremental update; None for dossiers built before signing.
    signed_sha256: Optional[str] = Field(default=None, sa_type=sa.String(64))
    signed_size: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    audit_seq_at_signing: Optional[int] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # While it runs, the job says it is alive every few seconds; silent too long, it has died.
    heartbeat_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One link of the tamper-evident chain: hash = SHA-256(canonical entry + prev_hash)."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(sa_type=sa.String(300))
    action: str = Field(sa_type=sa.String(40))
    entity: str = Field(sa_type=sa.String(40), index=True)
    entity_id: str = Field(sa_type=sa.String(120), index=True)
    case_ref: Optional[str] = Field(default=None, sa_type=sa.String(40), index=True)
    change: str = Field(sa_type=sa.Text)  # canonical JSON {"before": ..., "after": ...}
    prev_hash: str = Field(sa_type=sa.String(64))
    hash: str = Field(sa_type=sa.String(64), unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed chain head: whoever holds it can tell a truncated or rewritten log from the real
    one. Append-only: one per checkpointed seq."""

    __tablename__ = "audit_checkpoint"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(sa_type=sa.String(64))
    occurred_at: datetime = Field(sa_type=UTCDateTime)  # the time of the entry at seq
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    public_key: str = Field(sa_type=sa.String(64))  # raw Ed25519 key, hex
    signature: str = Field(sa_type=sa.String(128))  # over canonical {seq, hash, occurred_at}
    # An RFC 3161 time-stamping authority's reply over the signed message (DER, base64), or None
    # when no authority is configured or none answered.
    timestamp_token: Optional[str] = Field(default=None, sa_type=sa.Text)


class VerificationRun(SQLModel, table=True):
    """One verification of everything (or of one case's files and custody records, with the
    whole audit chain), run as a background job: what was checked, when, by whom, the result."""

    __tablename__ = "verification_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    ref: str = Field(sa_type=sa.String(40), unique=True, index=True)
    case_id: Optional[int] = Field(default=None, foreign_key="case.id", index=True)  # None: all
    requested_by: str = Field(sa_type=sa.String(300))  # an e-mail, or the command that asked
    status: RunStatus = Field(default=RunStatus.queued, sa_type=_enum(16), index=True)
    stage: str = Field(default="", sa_type=sa.String(200))
    progress: int = Field(default=0)
    error: str = Field(default="", sa_type=sa.Text)
    files_checked: int = Field(default=0)
    bytes_checked: int = Field(default=0, sa_type=sa.BigInteger)
    dossiers_checked: int = Field(default=0)
    custody_checked: int = Field(default=0)
    records_checked: int = Field(default=0)  # records of every kind held against the log
    audit_checked: int = Field(default=0)
    checkpoints_checked: int = Field(default=0)
    problem_count: int = Field(default=0)
    audit_head_seq: Optional[int] = Field(default=None)  # the chain's head the run checked to
    audit_head_hash: Optional[str] = Field(default=None, sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # While it runs, the job says it is alive every few seconds; silent too long, it has died.
    heartbeat_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class VerificationFinding(SQLModel, table=True):
    """One problem a run found, naming the evidence ref, dossier ref or audit seq; an auditor
    may acknowledge it with a note (audited), which does not make it go away."""

    __tablename__ = "verification_finding"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="verification_run.id", index=True)
    number: int  # 1, 2, … within the run
    kind: FindingKind = Field(sa_type=_enum(16))
    subject: str = Field(sa_type=sa.String(120))  # the evidence or dossier ref, or "seq N"
    message: str = Field(sa_type=sa.Text)
    acknowledged_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str = Field(default="", sa_type=sa.String(300))
    acknowledgement: str = Field(default="", sa_type=sa.Text)
