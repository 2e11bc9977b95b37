"""The OpenAPI 3.1 document, written from the route table and the models that validate."""

from functools import cache

from pydantic.json_schema import models_json_schema

from ihl_docs.api.inputs import IF_MATCH
from ihl_docs.api.schemas import FILE_FIELD, Error

SCHEMA_REF = "#/components/schemas/{model}"
ANSWERS = {
    400: "Malformed JSON or If-Match header",
    401: "No valid API token",
    403: "Your role or case membership does not allow this",
    404: "Nothing with that ref that you can see",
    409: "A duplicate, a stale If-Match version (nothing was changed), a dossier that is not "
         "done, or a stored file that is missing or no longer matches its SHA-256 (nothing was "
         "served)",
    413: "The body is too large",
    415: "The body is not in the media type this operation takes",
    422: "Invalid input; `fields` names each field with its problem",
    428: "If-Match is missing",
    507: "The evidence store has no space left; nothing was kept",
}
REF_PARAMETER = {
    "name": "ref", "in": "path", "required": True,
    "description": "the record's reference, e.g. NK-2020-001 or NK-2020-001-I001",
    "schema": {"type": "string"},
}
# A path parameter that means something else under one tag: (tag, name) -> parameter.
TAGGED_PATH_PARAMETERS = {
    ("dossiers", "id"): {"name": "id", "in": "path", "required": True,
                         "description": "the dossier's reference, e.g. NK-2020-001-D001",
                         "schema": {"type": "string"}},
}
PATH_PARAMETERS = {
    "ref": REF_PARAMETER,
    "key": {"name": "key", "in": "path", "required": True,
            "description": "the provision's key, e.g. rs-8-2-b-i", "schema": {"type": "string"}},
    "id": {"name": "id", "in": "path", "required": True,
           "description": "the qualification's id", "schema": {"type": "integer"}},
    "number": {"name": "number", "in": "path", "required": True,
               "description": "the element's number within the provision",
               "schema": {"type": "integer"}},
    "state": {"name": "state", "in": "path", "required": True,
              "description": "the state's ISO 3166 alpha-3 code, e.g. UKR",
              "schema": {"type": "string"}},
    "instrument": {"name": "instrument", "in": "path", "required": True,
                   "description": "the instrument's short name, e.g. Rome Statute",
                   "schema": {"type": "string"}},
}
DOWNLOAD = {
    "description": "the original bytes, as an attachment named by the ref; the media type is "
                   "the one recognised from the content",
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {name: {"schema": {"type": "string"}, "required": True, "description": text}
                for name, text in [
                    ("Content-Disposition", "attachment; filename=<ref><extension>"),
                    ("ETag", "the file's SHA-256, quoted"),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Content-Security-Policy", "sandbox; default-src 'none'")]},
}
PDF_DOWNLOAD = {
    "description": "the PDF, as an attachment named by the dossier's ref",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {name: {"schema": {"type": "string"}, "required": True, "description": text}
                for name, text in [
                    ("Content-Disposition", "attachment; filename=<ref>.pdf"),
                    ("ETag", "the PDF's SHA-256, quoted"),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Content-Security-Policy", "sandbox; default-src 'none'")]},
}
IF_MATCH_PARAMETER = {
    "name": "If-Match", "in": "header", "required": True,
    "description": 'the version you edited: 3, "3" or W/"3"',
    "schema": {"type": "string", "pattern": f"^{IF_MATCH.pattern}$"},
}


def openapi_document() -> dict:
    """This document (public: it needs no token)."""
    return build_document()


@cache
def build_document() -> dict:
    from ihl_docs.api.routes import (
        ROUTES,  # here, not above: the route table names this module's view
    )

    refs, defs = models_json_schema(_models(ROUTES), ref_template=SCHEMA_REF)
    schemas = defs.get("$defs", {})
    parameters = {route.query: _query_parameters(schemas, refs, route.query)
                  for route in ROUTES if route.query}
    for query in parameters:
        schemas.pop(_name(refs[(query, "validation")]), None)
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, refs, parameters.get(route.query, []))
    return {
        "openapi": "3.1.0",
        "info": {"title": "ihl_docs API", "version": "1",
                 "description": "Cases, incidents and their evidence, for documenting suspected "
                                "violations of international humanitarian law."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "a token from `ihl tokens create EMAIL`"}},
        },
        "security": [{"bearer": []}],
    }


def _models(routes) -> list:
    pairs = {(Error, "serialization")}
    for route in routes:
        pairs |= {(m, "validation") for m in (route.body, route.query, route.form) if m}
        pairs |= {(route.result, "serialization")} if route.result else set()
    return sorted(pairs, key=lambda pair: (pair[0].__name__, pair[1]))


def _operation(route, refs: dict, query_parameters: list) -> dict:
    tag = route.path.split("/")[1]
    operation = {"operationId": route.view.__name__, "summary": route.summary,
                 "tags": [tag], "parameters": []}
    for name, parameter in PATH_PARAMETERS.items():
        if "{" + name + "}" in route.path:
            operation["parameters"].append(TAGGED_PATH_PARAMETERS.get((tag, name), parameter))
    if route.if_match:
        operation["parameters"].append({**IF_MATCH_PARAMETER, "required": False, "description":
                                        IF_MATCH_PARAMETER["description"] + "; if left out, "
                                        "no version is checked"}
                                       if route.if_match_optional else IF_MATCH_PARAMETER)
    operation["parameters"] += query_parameters
    if route.body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(route.body, "validation")]}}}
    if route.form:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": refs[(route.form, "validation")],
            "encoding": {FILE_FIELD: {"contentType": "application/octet-stream"}}}}}
    if route.public:
        operation["security"] = []
    operation["responses"] = {str(route.status): _success(route, refs)}
    for status in route.errors:
        operation["responses"][str(status)] = _failure(status, refs)
    return operation


def _success(route, refs: dict) -> dict:
    if route.download:
        return route.download if isinstance(route.download, dict) else DOWNLOAD
    schema = refs[(route.result, "serialization")] if route.result else {"type": "object"}
    answer = {"description": route.summary,
              "content": {"application/json": {"schema": schema}}}
    if route.result and "version" in route.result.model_fields:
        answer["headers"] = {"ETag": {"description": "the record's version, quoted",
                                      "schema": {"type": "string"}}}
    return answer


def _failure(status: int, refs: dict) -> dict:
    answer = {"description": ANSWERS[status],
              "content": {"application/json": {"schema": refs[(Error, "serialization")]}}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


def _query_parameters(schemas: dict, refs: dict, model) -> list[dict]:
    properties = schemas[_name(refs[(model, "validation")])]["properties"]
    return [{"name": name, "in": "query", "required": False,
             "description": prop.get("description", ""), "schema": _without_null(prop)}
            for name, prop in properties.items()]


def _without_null(schema: dict) -> dict:
    """A query parameter is absent or has a value; JSON null has no spelling in a URL."""
    schema = {k: v for k, v in schema.items()
              if k != "description" and not (k == "default" and v is None)}
    options = [s for s in schema.pop("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    return schema


def _name(ref: dict) -> str:
    return ref["$ref"].rsplit("/", 1)[1]

