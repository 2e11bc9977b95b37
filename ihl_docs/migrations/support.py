"""What migrations that change the incident table need: on SQLite, a batch operation rebuilds the
table, and the word search's triggers (migration 0007) go with the old one.

`with incident_batch() as batch_op:` in place of `op.batch_alter_table("incident")` creates them
again afterwards and rebuilds the search index. The statements are those of 0007; a migration
that changes the searched columns must give its own."""

from contextlib import contextmanager

from alembic import op

COLUMNS = ["title", "place_name", "admin_area", "narrative", "weapon_type", "munition_details",
           "ref"]
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)
_cols = ", ".join(COLUMNS)
TRIGGERS = {
    "insert": f"CREATE TRIGGER incident_fts_insert AFTER INSERT ON incident BEGIN "
              f"INSERT INTO incident_fts (rowid, {_cols}) VALUES (new.id, {_new}); END",
    "delete": f"CREATE TRIGGER incident_fts_delete AFTER DELETE ON incident BEGIN "
              f"INSERT INTO incident_fts (incident_fts, rowid, {_cols}) "
              f"VALUES ('delete', old.id, {_old}); END",
    "update": f"CREATE TRIGGER incident_fts_update AFTER UPDATE OF {_cols} ON incident BEGIN "
              f"INSERT INTO incident_fts (incident_fts, rowid, {_cols}) "
              f"VALUES ('delete', old.id, {_old}); "
              f"INSERT INTO incident_fts (rowid, {_cols}) VALUES (new.id, {_new}); END",
}


@contextmanager
def incident_batch(**kwargs):
    """`op.batch_alter_table("incident")`, keeping the word search whole on SQLite."""
    with op.batch_alter_table("incident", **kwargs) as batch_op:
        yield batch_op
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or not bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'incident_fts'").first():
        return
    for name, statement in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS incident_fts_{name}")
        op.execute(statement)
    op.execute("INSERT INTO incident_fts (incident_fts) VALUES ('rebuild')")
