"""The evidence operations in the OpenAPI document: multipart upload, download, custody."""

import pytest

SCHEMAS = "#/components/schemas/"


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_the_evidence_operations_are_documented(document):
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    assert {("GET", "/cases/{ref}/evidence"), ("POST", "/cases/{ref}/evidence"),
            ("GET", "/evidence/{ref}"), ("GET", "/evidence/{ref}/content"),
            ("GET", "/evidence/{ref}/custody"), ("POST", "/evidence/{ref}/custody"),
            ("POST", "/incidents/{ref}/evidence")} <= documented


def test_the_upload_is_a_multipart_form_with_a_binary_file(document):
    operation = document["paths"]["/cases/{ref}/evidence"]["post"]
    content = operation["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    assert content["multipart/form-data"]["schema"] == {"$ref": SCHEMAS + "EvidenceUpload"}
    form = document["components"]["schemas"]["EvidenceUpload"]
    assert form["properties"]["file"]["type"] == "string"
    assert form["properties"]["file"]["format"] == "binary"
    assert form["required"] == ["kind", "title"]
    assert form["additionalProperties"] is False
    for name in ("kind", "title", "description", "source_url", "source_platform",
                 "source_author", "published_at", "acquired_at", "acquired_by",
                 "acquisition_method", "sensitivity", "reliability", "credibility",
                 "incident_ref", "relevance"):
        assert "anyOf" not in form["properties"][name], name  # a form field is never null
    assert form["properties"]["published_at"]["format"] == "date-time"
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": SCHEMAS + "EvidenceRead"}
    assert {"409", "413", "415", "422"} <= set(operation["responses"])


def test_the_download_is_binary_with_its_headers(document):
    operation = document["paths"]["/evidence/{ref}/content"]["get"]
    answer = operation["responses"]["200"]
    assert answer["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    assert {"Content-Disposition", "X-Content-Type-Options",
            "Content-Security-Policy"} <= set(answer["headers"])
    assert {"401", "404", "409"} <= set(operation["responses"])


def test_custody_and_links_come_from_the_models(document):
    schemas = document["components"]["schemas"]
    chain = document["paths"]["/evidence/{ref}/custody"]
    listed = chain["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": SCHEMAS + "CustodyChain"}
    assert set(schemas["CustodyChain"]["properties"]) == {"items", "total", "next", "warnings"}
    assert {"action", "occurred_at", "sha256_observed", "hash_matched", "warnings"} <= set(
        schemas["CustodyEntry"]["properties"])
    body = chain["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": SCHEMAS + "CustodyEventCreate"}
    assert schemas["CustodyEventCreate"]["additionalProperties"] is False
    link = document["paths"]["/incidents/{ref}/evidence"]["post"]
    assert link["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": SCHEMAS + "EvidenceLinkCreate"}
    assert set(schemas["EvidenceList"]["properties"]) == {"items", "total", "next"}
    assert {"incidents", "thumbnail_sha256", "sha256"} <= set(
        schemas["EvidenceRead"]["properties"])
