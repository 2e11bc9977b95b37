"""The chain check over stored columns gives what the check over entry documents gives."""

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.audit.chain import canonical_entry_text, canonical_json, verify_entries
from ihl_docs.core.models import AuditEntry

ODD = {"title": "Frappe sur le marché — «Ринок» \u2028 \"quoted\" \\ back\tslash\x01",
       "killed": 3, "ratio": 0.1, "big": 2 ** 53, "flags": [True, False, None], "nested": {"b": 1,
       "a": [{"z": "ä"}]}, "empty": {}, "": "empty key"}


def _record(db, n=6):
    for i in range(n):
        audit.record(db, actor=f"tester{i}@example.org", action="update", entity="incident",
                     entity_id=f"ID-{i} ü", case_ref=None if i % 2 else "NK-2020-001",
                     before={**ODD, "version": i}, after={**ODD, "version": i + 1})
    db.commit()


def _exec(db, sql, **params):
    db.exec(sa.text(sql).bindparams(**params))
    db.commit()


def _both(db, batch=20000):
    db.expire_all()
    fast = audit.verify_stored_entries(db, batch=batch)
    exact = verify_entries(audit.iter_entries(db))
    return fast, exact


def test_the_text_built_around_the_stored_change_is_the_canonical_text(db):
    _record(db)
    for entry in db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all():
        document = audit.entry_document(entry)
        del document["hash"]
        text = canonical_entry_text(
            entry.seq, document["occurred_at"], entry.actor, entry.action, entry.entity,
            entry.entity_id, entry.case_ref, entry.change, entry.prev_hash)
        assert text == canonical_json(document)


def test_fields_of_another_type_are_left_to_the_exact_check():
    assert canonical_entry_text(1, "t", 5, "a", "e", "i", None, "{}", "0") is None
    assert canonical_entry_text("1", "t", "x", "a", "e", "i", None, "{}", "0") is None
    assert canonical_entry_text(1, "t", "x", "a", "e", "i", None, None, "0") is None


@pytest.mark.parametrize("batch", [2, 3, 20000])
def test_an_intact_chain_agrees_across_batches(db, batch):
    _record(db, 7)
    fast, exact = _both(db, batch)
    assert fast == exact == (7, None)


@pytest.mark.parametrize("sql, expected", [
    ("UPDATE audit_entry SET actor = 'x@example.org' WHERE seq = 4",
     "audit seq 4: contents do not match its hash"),
    ("DELETE FROM audit_entry WHERE seq = 3", "audit seq 3: missing (found seq 4 next)"),
    ("DELETE FROM audit_entry WHERE seq = 6", "audit seq 6: missing (found seq None next)"),
    ("UPDATE audit_entry SET prev_hash = hash WHERE seq = 5",
     "audit seq 5: prev_hash does not match the hash of seq 4"),
    ("UPDATE audit_entry SET change = 'not json' WHERE seq = 2",
     "audit seq 2: contents do not match its hash"),
    ("UPDATE audit_entry SET change = :c WHERE seq = 1",
     "audit seq 1: contents do not match its hash"),
    ("UPDATE audit_entry SET case_ref = NULL WHERE seq = 3",
     "audit seq 3: contents do not match its hash"),
])
def test_every_break_is_named_alike(db, sql, expected):
    _record(db)
    if "seq = 6" in sql:  # the last entry deleted: the chain just ends, as before
        expected = None
    _exec(db, sql, **({"c": '{"after":null,"before":null}'} if ":c" in sql else {}))
    fast, exact = _both(db, batch=2)
    assert fast == exact
    assert (fast[1][1] if fast[1] else None) == expected


def test_change_text_that_is_not_canonical_is_read_as_before(db):
    """The same change written with spaces and keys in another order holds, as it did when
    every change was parsed and written canonical again."""
    _record(db, 3)
    entry = db.exec(select(AuditEntry).where(AuditEntry.seq == 2)).one()
    loose = json.dumps(json.loads(entry.change), indent=2, ensure_ascii=True)
    assert loose != entry.change
    _exec(db, "UPDATE audit_entry SET change = :c WHERE seq = 2", c=loose)
    fast, exact = _both(db)
    assert fast == exact == (3, None)


def test_occurred_at_stored_in_another_form_is_read_through_its_type(db):
    _record(db, 3)
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("the text form of a timestamp is SQLite's")
    stored = db.exec(sa.text("SELECT occurred_at FROM audit_entry WHERE seq = 2")).one()[0]
    _exec(db, "UPDATE audit_entry SET occurred_at = :t WHERE seq = 2",
          t=stored.replace(" ", "T"))  # the same moment, written ISO-style
    fast, exact = _both(db)
    assert fast == exact == (3, None)
    _exec(db, "UPDATE audit_entry SET occurred_at = '2020-01-01 00:00:00.000000' WHERE seq = 2")
    fast, exact = _both(db)
    assert fast == exact == (1, (2, "audit seq 2: contents do not match its hash"))


def test_an_intact_chain_needs_no_second_reading(db, monkeypatch):
    """Entries as the log writes them match on the first reading (on SQLite and PostgreSQL)."""
    _record(db, 4)

    def exact(_document):
        raise AssertionError("an intact entry was read a second time")

    monkeypatch.setattr(audit, "entry_hash", exact)
    assert audit.verify_stored_entries(db) == (4, None)
