"""The editable suggestion mapping: lawyers and administrators add and retire lines."""

from sqlmodel import select

from ihl_docs.core.models import AuditEntry, SuggestionRule
from tests.builders import load_catalogue, login, make_user
from tests.pages_support import text_of


def active_rules(db):
    rows = db.exec(select(SuggestionRule).where(SuggestionRule.active)
                   .execution_options(populate_existing=True)).all()
    db.commit()
    return rows


def test_lawyer_adds_and_retires_a_suggestion(client, db):
    load_catalogue(db)
    lawyer = make_user(db, "legal")
    login(client, lawyer)
    before = len(active_rules(db))
    page = text_of(client.get("/provisions/suggestions"))
    assert "ccm-1" in page
    assert "Add a suggestion" in page
    response = client.post("/provisions/suggestions", data={
        "incident_type": "drone_strike", "weapon_keyword": "loitering",
        "provision_key": "cihl-71", "reason": "Loitering munitions"})
    assert response.status_code == 302
    rules = active_rules(db)
    assert len(rules) == before + 1
    added = [r for r in rules if r.weapon_keyword == "loitering"][0]
    assert (added.incident_type, added.provision_key) == ("drone_strike", "cihl-71")
    assert client.post(f"/provisions/suggestions/{added.id}/retire").status_code == 302
    assert len(active_rules(db)) == before
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity == "suggestion_rule",
                                                      AuditEntry.entity_id == str(added.id))).all()
    db.commit()
    assert actions == ["create", "retire"]


def test_bad_suggestions_are_refused_next_to_the_field(client, db):
    load_catalogue(db)
    login(client, make_user(db, "admin"))
    before = len(active_rules(db))
    unknown = client.post("/provisions/suggestions", data={
        "incident_type": "rocket", "provision_key": "no-such-key"})
    assert unknown.status_code == 422
    assert "no-such-key" in text_of(unknown)
    neither = client.post("/provisions/suggestions", data={"provision_key": "cihl-11"})
    assert neither.status_code == 422
    assert "incident type, a weapon word, or both" in text_of(neither)
    assert len(active_rules(db)) == before


def test_others_read_but_cannot_edit(client, db):
    load_catalogue(db)
    login(client, make_user(db, "investigator"))
    page = text_of(client.get("/provisions/suggestions"))
    assert "ccm-1" in page
    assert "Add a suggestion" not in page
    before = len(active_rules(db))
    assert client.post("/provisions/suggestions", data={
        "incident_type": "rocket", "provision_key": "cihl-11"}).status_code == 403
    rule = active_rules(db)[0]
    assert client.post(f"/provisions/suggestions/{rule.id}/retire").status_code == 403
    assert len(active_rules(db)) == before
