"""The tests' short cut for the legal catalogue (catalogue_copy.py) gives what a load gives."""

import sqlalchemy as sa

from ihl_docs.core.audit.log import verify_chain
from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.schema import upgrade
from ihl_docs.provisions import catalogue
from tests.builders import load_catalogue, make_user
from tests.database_support import PG_URL, drop_schema, pg_worker_url

# What differs between two loads of the catalogue: when each audit entry was written, and so
# the hashes that chain the entries.
# The entries of a load of the bundled catalogue: 25 instruments, 160 provisions, 1,221 treaty
# participation rows, 18 ICC jurisdiction facts and 41 suggestion rules.
ENTRIES = 25 + 160 + 1221 + 18 + 41
CLOCK = {("audit_entry", "occurred_at"), ("audit_entry", "hash"), ("audit_entry", "prev_hash")}


def contents(engine) -> dict:
    """Every row of every table (the clock's columns aside), and the ids each table gives next."""
    tables, next_ids = {}, {}
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY 1')
            keep = [i for i, c in enumerate(result.keys()) if (table, c) not in CLOCK]
            tables[table] = [tuple(row[i] for i in keep) for row in result]
        if engine.dialect.name == "postgresql":
            next_ids = dict(conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()").all())
    return {"tables": tables, "next_ids": next_ids}


def counted_loads(monkeypatch) -> list:
    """The catalogue loads from now on, one item each."""
    loads, load = [], catalogue.load_bundled

    def counting(*args, **kwargs):
        loads.append(args)
        return load(*args, **kwargs)

    monkeypatch.setattr(catalogue, "load_bundled", counting)
    return loads


def loaded_elsewhere(tmp_path, worker_id):
    """A new database of the same kind, the catalogue loaded into it as `ihl init` does."""
    url = (pg_worker_url(f"{worker_id}_load") if PG_URL
           else f"sqlite:///{tmp_path / 'loaded.sqlite3'}")
    engine = make_engine(url)
    upgrade(engine)
    with open_session(engine) as session:
        catalogue.load_bundled(session, actor="test")
        session.commit()
    return url, engine


def test_a_copy_holds_what_a_load_writes_timestamps_aside(app, db, tmp_path, worker_id,
                                                          catalogue_copier, monkeypatch):
    assert catalogue_copier.catalogue  # loaded once for the test process (now, if not yet)
    loads = counted_loads(monkeypatch)
    load_catalogue(db)  # the test's database is new: copied, not loaded
    assert loads == []
    url, engine = loaded_elsewhere(tmp_path, worker_id)
    try:
        assert contents(app.extensions["ihl_engine"]) == contents(engine)
    finally:
        engine.dispose()
        if PG_URL:
            drop_schema(url)
    assert verify_chain(db) == (ENTRIES, [])
    db.commit()


def test_only_a_database_as_migrated_gets_a_copy(db, catalogue_copier, monkeypatch):
    make_user(db, "legal")
    assert catalogue_copier(db) is False
    loads = counted_loads(monkeypatch)
    load_catalogue(db)  # loaded: after the user's entry in the audit log
    assert len(loads) == 1
    assert catalogue_copier(db) is False
    count, problems = verify_chain(db)
    db.commit()
    assert (count, problems) == (ENTRIES + 1, [])
