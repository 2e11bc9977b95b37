"""Chains of custody through the API: the chain in order with its gaps, and recording events."""

from datetime import timedelta

import pytest
from sqlmodel import select

from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import CustodyEvent
from tests.builders import make_evidence

COLLECTED = utcnow() - timedelta(days=3)


@pytest.fixture
def item(world, app, db):
    """A document collected three days ago by Witness A, then received into the system."""
    return make_evidence(db, world["case"], world["creator"], app.extensions["ihl_store"],
                         b"%PDF-1.4 statement", acquired_by="Witness A",
                         acquired_at=COLLECTED.isoformat())


@pytest.fixture
def headers(world):
    return world["headers"]["member_investigator"]


def chain_url(item) -> str:
    return f"/api/v1/evidence/{item.ref}/custody"


def event(action="sealed", hours_ago=0, **fields) -> dict:
    """A custody event; by default it happens now, after the item was received."""
    body = {"action": action, "occurred_at": (utcnow() - timedelta(hours=hours_ago)).isoformat(),
            "custodian_from": "", "custodian_to": "Forensic lab", "place": "Yerevan",
            "purpose": "Analysis", "notes": "Sealed bag no. 12"}
    body.update(fields)
    return body


def test_the_chain_in_order(client, world, item):
    response = client.get(chain_url(item), headers=world["headers"]["auditor"])
    assert response.status_code == 200
    chain = response.get_json()
    assert chain["total"] == 2
    assert chain["next"] is None
    assert chain["warnings"] == []
    collected, received = chain["items"]
    assert collected["action"] == "collected"
    assert collected["custodian_to"] == "Witness A"
    assert collected["occurred_at"] == COLLECTED.isoformat()
    assert received["action"] == "received"
    assert received["hash_matched"] is True
    assert received["sha256_observed"] == item.sha256
    assert all(e["warnings"] == [] for e in chain["items"])


def test_record_a_transfer(client, world, headers, item, db):
    body = event("transferred", custodian_from=world["creator"].email)
    response = client.post(chain_url(item), headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    recorded = response.get_json()
    for name in ("action", "custodian_from", "custodian_to", "place", "purpose", "notes"):
        assert recorded[name] == body[name]
    assert recorded["hash_matched"] is True
    assert recorded["sha256_observed"] == item.sha256
    assert recorded["actor"].endswith("@example.org")
    assert recorded["warnings"] == []
    actions = [e["action"] for e in client.get(chain_url(item), headers=headers)
               .get_json()["items"]]
    assert actions == ["collected", "received", "transferred"]


def test_gaps_in_the_chain_are_warned_about(client, headers, item):
    response = client.post(chain_url(item), headers=headers,
                           json=event("transferred", custodian_from="Somebody else"))
    assert response.status_code == 201
    assert "no transfer event between them" in response.get_json()["warnings"][0]
    chain = client.get(chain_url(item), headers=headers).get_json()
    assert chain["items"][-1]["warnings"] == response.get_json()["warnings"]


def test_the_chain_is_a_list_with_pages(client, headers, item):
    for _ in range(3):
        assert client.post(chain_url(item), headers=headers, json=event()).status_code == 201
    url, actions = f"{chain_url(item)}?limit=2", []
    while url:
        page = client.get(url, headers=headers).get_json()
        assert page["total"] == 5
        assert len(page["items"]) <= 2
        assert page["warnings"] == []
        actions += [e["action"] for e in page["items"]]
        url = page["next"]
    assert actions == ["collected", "received", "sealed", "sealed", "sealed"]
    response = client.get(f"{chain_url(item)}?limit=0", headers=headers)
    assert "limit" in response.get_json()["error"]["fields"]


def test_a_physical_item_has_a_chain_too(client, world, app, db, headers):
    fin = make_evidence(db, world["case"], world["creator"], app.extensions["ihl_store"], None,
                        title="Tail fin")
    response = client.post(chain_url(fin), headers=headers, json=event("sealed"))
    assert response.status_code == 201
    assert response.get_json()["hash_matched"] is None


BREAKING = [
    (event(hours_ago=24 * 4), "occurred_at"),  # before the item was collected
    (event(hours_ago=-2), "occurred_at"),  # in the future
    (event("accessed"), "action"),
    (event("exported"), "action"),
    (event("collected"), "action"),
    (event("transferred", hours_ago=1), "custodian_from"),
    (event("received", hours_ago=1, custodian_to=" "), "custodian_to"),
]


@pytest.mark.parametrize("body, field", BREAKING)
def test_events_that_break_the_rules_are_422(client, headers, item, db, body, field):
    response = client.post(chain_url(item), headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "custody_rule"
    assert field in error["fields"]
    assert len(db.exec(select(CustodyEvent)).all()) == 2


MALFORMED = [
    ({**event(), "occurred_at": "2020-10-04T09:30:00"}, "occurred_at"),
    ({**event(), "occurred_at": "yesterday"}, "occurred_at"),
    ({**event(), "action": "lost"}, "action"),
    ({**event(), "notes": 5}, "notes"),
    ({**event(), "place": "x" * 301}, "place"),
    ({**event(), "signature": "me"}, "signature"),
    ({k: v for k, v in event().items() if k != "occurred_at"}, "occurred_at"),
    ({**event(), "notes": "nul\x00"}, "notes"),
]


@pytest.mark.parametrize("body, field", MALFORMED)
def test_malformed_events_name_the_field(client, headers, item, body, field):
    response = client.post(chain_url(item), headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_a_custody_body_that_is_not_json(client, headers, item):
    response = client.post(chain_url(item), headers=headers, data="{", content_type="text/plain")
    assert response.status_code == 415
    response = client.post(chain_url(item), headers=headers, data="{",
                           content_type="application/json")
    assert response.status_code == 400
