"""The OpenAPI document: public, valid, and describing exactly the routes that run."""

import json

import pytest
import schemathesis
from schemathesis.core.result import Ok

from ihl_docs.api.openapi import build_document
from ihl_docs.api.routes import ROUTES
from ihl_docs.api.schemas import IncidentCreate, IncidentUpdate

SCHEMA_REF = "#/components/schemas/{model}"


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_served_document_is_the_built_one(document):
    assert document == json.loads(json.dumps(build_document()))
    assert document["openapi"] == "3.1.0"


def test_it_is_valid_openapi_and_schemathesis_reads_every_operation(document):
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()
    operations = [result.ok() for result in schema.get_all_operations()
                  if isinstance(result, Ok)]
    assert len(operations) == len(ROUTES)


def test_every_running_route_is_documented_and_nothing_else(app, document):
    running = {(method, rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"))
               for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
               for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    assert running == documented
    assert {("GET", "/cases"), ("POST", "/cases"), ("GET", "/cases/{ref}"),
            ("POST", "/cases/{ref}/members"), ("GET", "/cases/{ref}/incidents"),
            ("POST", "/cases/{ref}/incidents"), ("GET", "/incidents/{ref}"),
            ("PATCH", "/incidents/{ref}"), ("GET", "/openapi.json")} <= documented


def _parameters(document, method, path):
    operation = document["paths"][path][method]
    return {(p["in"], p["name"]): p for p in operation["parameters"]}


def test_parameters_are_documented(document):
    for path, item in document["paths"].items():
        for method in item:
            params = _parameters(document, method, path)
            assert (("path", "ref") in params) == ("{ref}" in path)
    patch = _parameters(document, "patch", "/incidents/{ref}")
    assert patch[("header", "If-Match")]["required"] is True
    assert ("header", "If-Match") in _parameters(document, "post", "/incidents/{ref}/status")
    assert {("query", "limit"), ("query", "offset")} <= set(
        _parameters(document, "get", "/cases"))
    incident_filters = _parameters(document, "get", "/cases/{ref}/incidents")
    for name in ("limit", "offset", "incident_type", "verification_status", "workflow_status",
                 "q", "date_from", "date_to"):
        assert incident_filters[("query", name)]["required"] is False
    assert incident_filters[("query", "limit")]["schema"]["maximum"] == 500
    assert incident_filters[("query", "incident_type")]["schema"] == {
        "$ref": "#/components/schemas/IncidentType"}


def test_security_is_bearer_except_for_the_document(document):
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "a token from `ihl tokens create EMAIL`"}
    assert document["security"] == [{"bearer": []}]
    for path, item in document["paths"].items():
        for _method, operation in item.items():
            if path == "/openapi.json":
                assert operation["security"] == []
            else:
                assert "security" not in operation
                assert "401" in operation["responses"]


def test_bodies_and_answers_come_from_the_models(document):
    schemas = document["components"]["schemas"]
    for name in ("CaseCreate", "CaseRead", "PartyIn", "IncidentCreate", "IncidentUpdate",
                 "IncidentRead", "MemberAdd", "StatusChange", "Error", "CaseList",
                 "IncidentList"):
        assert name in schemas
    for model in (IncidentCreate, IncidentUpdate):
        generated = model.model_json_schema(ref_template=SCHEMA_REF)
        assert schemas[model.__name__]["properties"] == generated["properties"]
        assert schemas[model.__name__]["additionalProperties"] is False
    create = document["paths"]["/cases/{ref}/incidents"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IncidentCreate"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IncidentRead"}
    assert set(schemas["CaseList"]["properties"]) == {"items", "total", "next"}


def test_every_reference_resolves(document):
    text = json.dumps(document)
    names = {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}
    assert names <= set(document["components"]["schemas"])
