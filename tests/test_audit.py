"""The audit log: one entry per change in the same transaction, a chain that names its breaks."""

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.cases import services as cases
from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.chain import GENESIS_HASH, entry_hash
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import AuditEntry
from ihl_docs.incidents import services as incidents
from tests.builders import make_case, make_incident, make_user


def entries(db):
    db.expire_all()
    return db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()


def test_every_change_writes_one_chained_entry(db):
    investigator = make_user(db, "investigator")
    legal = make_user(db, "legal")
    case = make_case(db, investigator)
    cases.add_member(db, case, legal.email, actor=investigator)
    incident = make_incident(db, case, investigator)
    incidents.update_incident(db, incident, {"title": "Corrected title"}, expected_version=1,
                              actor=investigator)
    incidents.change_status(db, incident, "submitted", expected_version=2, actor=investigator)
    db.commit()
    log = entries(db)
    assert [(e.action, e.entity) for e in log] == [
        ("create", "user"), ("create", "user"), ("create", "case"),
        ("add_member", "case_member"), ("add_member", "case_member"),
        ("create", "incident"), ("update", "incident"), ("status_change", "incident"),
    ]
    assert [e.seq for e in log] == list(range(1, 9))
    assert log[0].prev_hash == GENESIS_HASH
    for before, after in zip(log, log[1:]):
        assert after.prev_hash == before.hash
    update = json.loads(log[6].change)
    assert update["before"]["title"] == "Rocket strike on market"
    assert update["after"]["title"] == "Corrected title"
    assert log[6].actor == investigator.email
    assert log[6].case_ref == case.ref
    assert "password_hash" not in json.loads(log[0].change)["after"]
    assert audit.verify_chain(db) == (8, [])


def test_refused_change_leaves_no_entry(db):
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    incident = make_incident(db, case, investigator)
    count = len(entries(db))
    with pytest.raises(InvalidInput):
        incidents.update_incident(db, incident, {"killed_min": 9, "killed_max": 3},
                                  expected_version=1, actor=investigator)
    db.rollback()
    assert len(entries(db)) == count
    assert db.get(type(incident), incident.id).killed_min == 2


def test_rolled_back_transaction_takes_its_entry_with_it(db):
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    count = len(entries(db))
    make_incident_without_commit = incidents.create_incident
    from ihl_docs.core.models import IncidentCreate
    from tests.builders import incident_data
    make_incident_without_commit(db, case, IncidentCreate.model_validate(incident_data()),
                                 actor=investigator)
    db.rollback()
    assert len(entries(db)) == count
    assert audit.verify_chain(db)[1] == []


def _seed(db, n_incidents=3):
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    for i in range(n_incidents):
        make_incident(db, case, investigator, title=f"Incident {i}")
    return len(entries(db))


def _exec(db, sql, **params):
    db.exec(sa.text(sql).bindparams(**params))
    db.commit()


def test_edited_row_is_named(db, runner):
    _seed(db)
    _exec(db, "UPDATE audit_entry SET actor = 'someone-else@example.org' WHERE seq = 4")
    count, problems = audit.verify_chain(db)
    assert problems == ["audit seq 4: contents do not match its hash"]
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert "audit seq 4" in result.output


def test_deleted_row_is_named(db, runner):
    _seed(db)
    _exec(db, "DELETE FROM audit_entry WHERE seq = 3")
    assert audit.verify_chain(db)[1] == ["audit seq 3: missing (found seq 4 next)"]
    result = runner.invoke(args=["verify", "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.output)["problems"]
    assert "audit seq 3: missing (found seq 4 next)" in problems
    # and the record that entry made is no longer vouched for by any entry
    assert any("has no audit entry" in p for p in problems), problems


def test_swapped_rows_are_named(db):
    _seed(db)
    rows = {e.seq: e for e in entries(db)}
    a, b = rows[3], rows[4]
    columns = ["occurred_at", "actor", "action", "entity", "entity_id", "case_ref", "change"]
    for name in columns:
        va, vb = getattr(a, name), getattr(b, name)
        setattr(a, name, vb)
        setattr(b, name, va)
    db.add_all([a, b])
    db.commit()
    assert audit.verify_chain(db)[1] == ["audit seq 3: contents do not match its hash"]


def test_rewrite_with_recomputed_hash_breaks_the_next_link(db):
    total = _seed(db)
    entry = {e.seq: e for e in entries(db)}[2]
    doc = audit.entry_document(entry)
    doc["actor"] = "forger@example.org"
    _exec(db, "UPDATE audit_entry SET actor = :a, hash = :h WHERE seq = 2",
          a="forger@example.org", h=entry_hash(doc))
    assert audit.verify_chain(db)[1] == [
        "audit seq 3: prev_hash does not match the hash of seq 2"]
    assert total > 3


def test_intact_chain_verifies_from_cli(db, runner):
    total = _seed(db)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    # the account, the case, its member, three incidents: one entry each
    assert (f"Checked 0 stored files, 6 records (0 custody events) and {total} audit "
            "entries: intact.") in result.output
