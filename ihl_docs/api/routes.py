"""The route table: each endpoint's method, path, models, answers and security.

The same table registers the Flask routes, chooses the models that validate each request and
writes the OpenAPI document, so what is documented is what runs.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from functools import wraps
from typing import Callable

from flask import Blueprint, current_app, g
from pydantic import BaseModel

from ..models import CaseRead, IncidentRead
from . import cases, incidents, openapi
from .auth import authenticate
from .schemas import (CaseCreate, CaseList, IncidentCreate, IncidentList, IncidentQuery,
                      IncidentUpdate, ListQuery, MemberAdd, MemberRead, StatusChange)

READ = (401, 404)
LIST = (401, 404, 422)
WRITE = (400, 401, 403, 404, 409, 413, 415, 422)
EDIT = WRITE + (428,)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as OpenAPI writes it: /cases/{ref}
    view: Callable
    summary: str
    status: int = 200
    body: type[BaseModel] | None = None
    result: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    if_match: bool = False
    public: bool = False
    errors: tuple[int, ...] = READ

    @property
    def rule(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")


ROUTES = [
    Route("GET", "/cases", cases.list_cases, "The cases you may see",
          query=ListQuery, result=CaseList, errors=(401, 422)),
    Route("POST", "/cases", cases.create_case, "Open a case (you become its first member)",
          status=201, body=CaseCreate, result=CaseRead,
          errors=(400, 401, 403, 409, 413, 415, 422)),
    Route("GET", "/cases/{ref}", cases.show_case, "A case with its incident and evidence refs",
          result=CaseRead),
    Route("POST", "/cases/{ref}/members", cases.add_case_member,
          "Add a user to the case, with the rights of their role",
          status=201, body=MemberAdd, result=MemberRead, errors=WRITE),
    Route("GET", "/cases/{ref}/incidents", incidents.list_case_incidents,
          "The case's incidents, newest first", query=IncidentQuery, result=IncidentList,
          errors=LIST),
    Route("POST", "/cases/{ref}/incidents", incidents.create_case_incident,
          "File an incident in the case, as a draft",
          status=201, body=IncidentCreate, result=IncidentRead, errors=WRITE),
    Route("GET", "/incidents/{ref}", incidents.show_incident, "An incident", result=IncidentRead),
    Route("PATCH", "/incidents/{ref}", incidents.update_incident,
          "Change some of an incident's fields", body=IncidentUpdate, result=IncidentRead,
          if_match=True, errors=EDIT),
    Route("POST", "/incidents/{ref}/status", incidents.change_incident_status,
          "Move an incident through the review workflow", body=StatusChange,
          result=IncidentRead, if_match=True, errors=EDIT),
    Route("GET", "/openapi.json", openapi.openapi_document, "This OpenAPI document",
          public=True, errors=()),
]


def register_routes(bp: Blueprint) -> None:
    for route in ROUTES:
        bp.add_url_rule(route.rule, route.view.__name__, _endpoint(route),
                        methods=[route.method])


def _endpoint(route: Route) -> Callable:
    @wraps(route.view)
    def endpoint(**path):
        g.api_route = route
        if not route.public:
            authenticate()
        return answer(route.view(**path), route.status)

    return endpoint


def answer(result, status: int = 200):
    """A JSON response in the models' field order, with an ETag when the record has a version."""
    text = json.dumps(jsonable(result), ensure_ascii=False)
    response = current_app.response_class(text + "\n", status=status,
                                          mimetype="application/json")
    version = getattr(result, "version", None)
    if isinstance(version, int):
        response.set_etag(str(version))
    return response


def jsonable(value):
    """Models, enums and times as JSON values; times in ISO 8601 with their UTC offset."""
    if isinstance(value, BaseModel):
        # Service read models may hold enum values as plain strings; that is expected.
        value = value.model_dump(mode="python", by_alias=True, warnings=False)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
