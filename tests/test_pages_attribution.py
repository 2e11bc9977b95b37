"""Recording that an armed group acts for, or under the control of, a state — the page lawyers use —
and the answer the qualification page then gives."""

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from ihl_docs.cases import services as case_services
from ihl_docs.core.models import AuditEntry, Case, CaseUpdate
from tests.builders import load_catalogue, login, make_case, make_incident, make_user, qualify
from tests.pages_support import text_of

PARTIES = [{"name": "Russian armed forces", "kind": "state", "state_code": "RUS"},
           {"name": "Group X", "kind": "non-state"}]


@pytest.fixture
def team(db):
    load_catalogue(db)
    investigator = make_user(db, "investigator")
    lawyer, auditor = make_user(db, "legal"), make_user(db, "auditor")
    outsider = make_user(db, "legal")
    case = make_case(db, investigator, parties=PARTIES, conflict_classification="international")
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="Group X", country="UKR",
                             occurred_from=datetime(2022, 3, 1, 10, tzinfo=UTC))
    return {"investigator": investigator, "lawyer": lawyer, "auditor": auditor,
            "outsider": outsider, "case": case, "incident": incident}


def _url(team):
    return f"/cases/{team['case'].ref}/attribution"


def _form(team, **fields):
    data = {"party": "Group X", "attribution": "overall_control", "attributed_state": "RUS",
            "attribution_note": "Units report to the state's general staff.",
            "version": str(team["case"].version)}
    data.update(fields)
    return data


def _entries(db):
    count = db.exec(select(func.count()).select_from(AuditEntry)).one()
    db.commit()
    return count


def test_a_lawyer_records_an_attribution_and_the_check_follows_the_state(client, db, team):
    login(client, team["lawyer"])
    page = client.get(_url(team))
    assert page.status_code == 200
    assert "overall or effective control" in text_of(page)
    qualify(db, team["incident"], team["lawyer"], "api-51-4")
    before = client.get(f"/incidents/{team['incident'].ref}/qualifications")
    assert "attributable to a state party" in text_of(before)
    response = client.post(_url(team), data=_form(team))
    assert response.status_code == 302, text_of(response)
    case_page = text_of(client.get(f"/cases/{team['case'].ref}"))
    assert "Alleged to act under the overall control of RUS" in case_page
    after = text_of(client.get(f"/incidents/{team['incident'].ref}/qualifications"))
    assert "attributable to a state party" not in after
    assert "treaty checks follow RUS" in after
    assert "Is the rule binding on the party?" in after or "Attribution" in after
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "case")
                    .order_by(AuditEntry.seq.desc())).first()
    assert entry.actor == team["lawyer"].email
    group = next(p for p in json.loads(entry.change)["after"]["parties"] if p["name"] == "Group X")
    assert group["attributed_state"] == "RUS"
    assert group["attribution"] == "overall_control"


def test_attributing_to_a_non_state_party_is_refused_on_the_form(client, db, team):
    db.refresh(team["case"])
    case_services.update_case(db, team["case"], CaseUpdate(
        title=team["case"].title, conflict_classification="international",
        parties=PARTIES + [{"name": "Group Y", "kind": "non-state"}]),
        expected_version=team["case"].version, actor=team["investigator"])
    db.commit()
    db.refresh(team["case"])
    db.commit()
    login(client, team["lawyer"])
    before = _entries(db)
    response = client.post(_url(team), data=_form(team, attributed_state="Group Y"))
    assert response.status_code == 422
    assert "Group Y is a non-state party" in text_of(response)
    response = client.post(_url(team), data=_form(team, attributed_state="QQQ"))
    assert response.status_code == 422
    assert "neither an ISO 3166-1 alpha-3 state code" in text_of(response)
    assert _entries(db) == before


def test_a_stale_attribution_form_is_refused(client, db, team):
    login(client, team["lawyer"])
    stale = _form(team)
    assert client.post(_url(team), data=_form(team)).status_code == 302
    before = _entries(db)
    response = client.post(_url(team), data=stale | {"attributed_state": "UKR"})
    assert response.status_code == 409
    assert _entries(db) == before
    case = db.get(Case, team["case"].id)
    db.refresh(case)
    assert next(p for p in case_services.parties(db, case)
                if p.name == "Group X").attributed_state == "RUS"


def test_editing_the_case_keeps_the_attribution(app, client, db, team):
    login(client, team["lawyer"])
    assert client.post(_url(team), data=_form(team)).status_code == 302
    client = app.test_client()
    login(client, team["investigator"])
    db.refresh(team["case"])
    db.commit()
    form = {"title": "Renamed", "summary": "", "conflict_classification": "international",
            "version": str(team["case"].version)}
    for index, party in enumerate(PARTIES):
        form[f"parties-{index}-name"] = party["name"]
        form[f"parties-{index}-kind"] = party["kind"]
        form[f"parties-{index}-state_code"] = party.get("state_code") or ""
    response = client.post(f"/cases/{team['case'].ref}/edit", data=form)
    assert response.status_code == 302, text_of(response)
    case = db.get(Case, team["case"].id)
    db.refresh(case)
    assert case.title == "Renamed"
    assert next(p for p in case_services.parties(db, case)
                if p.name == "Group X").attributed_state == "RUS"


@pytest.mark.parametrize("who, status", [("auditor", 403), ("outsider", 404)])
def test_who_may_not_record_attributions(client, db, team, who, status):
    login(client, team[who])
    before = _entries(db)
    assert client.get(_url(team)).status_code == status
    assert client.post(_url(team), data=_form(team)).status_code == status
    assert _entries(db) == before


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    response = client.get(_url(team))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_api_records_and_withdraws_an_attribution(client, db, team):
    from tests.api_support import bearer, error_of, token_for

    headers = bearer(token_for(db, team["lawyer"]))
    url = f"/api/v1/cases/{team['case'].ref}/attribution"
    body = {"party": "Group X", "attributed_state": "rus", "attribution": "effective_control",
            "note": "Orders intercepted."}
    version = f'"{team["case"].version}"'
    assert error_of(client.put(url, headers=headers, json=body), 428)["code"] == \
        "precondition_required"
    error = error_of(client.put(url, headers={**headers, "If-Match": version},
                                json=body | {"attributed_state": "Russian armed forces",
                                             "party": "Russian armed forces"}), 422)
    assert "its own" in error["message"]
    response = client.put(url, headers={**headers, "If-Match": version}, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    group = next(p for p in response.get_json()["parties"] if p["name"] == "Group X")
    assert group["attributed_state"] == "RUS"
    assert group["attribution"] == "effective_control"
    stale = client.put(url, headers={**headers, "If-Match": version}, json=body)
    assert stale.status_code == 409
    response = client.put(url, headers={**headers, "If-Match": f'"{team["case"].version + 1}"'},
                          json={"party": "Group X"})
    assert response.status_code == 200
    group = next(p for p in response.get_json()["parties"] if p["name"] == "Group X")
    assert group["attributed_state"] is None
