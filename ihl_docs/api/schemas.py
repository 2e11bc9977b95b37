"""What the API accepts and answers: the shared models, made strict, and the API's own.

The shared create models ignore unknown fields; the API refuses them, so a misspelt field is
reported instead of silently dropped.
"""

from functools import cache
from typing import Any, Optional

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from .. import models
from ..models import (CaseRead, IncidentRead, IncidentType, Role, VerificationStatus,
                      WorkflowStatus)

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

# SQLModel's own __init__ validates again in lax mode, so a strict check of a SQLModel body
# needs a plain pydantic twin with the same fields (JSON true is not 1, "3" is not 3).
TYPE_TWINS = {IncidentCreate: IncidentUpdate}


class MemberAdd(BaseModel):
    model_config = STRICT

    email: str = Field(min_length=3, max_length=254, description="the account to add")


class MemberRead(BaseModel):
    case_ref: str
    email: str
    name: str
    role: Role


class StatusChange(BaseModel):
    model_config = STRICT

    workflow_status: WorkflowStatus


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
                             description="words in the title, place, narrative or ref")
    date_from: Optional[AwareDatetime] = Field(
        default=None, description="incidents still going on at or after this time")
    date_to: Optional[AwareDatetime] = Field(
        default=None, description="incidents that began at or before this time")


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


CaseList = list_of(CaseRead)
IncidentList = list_of(IncidentRead)
