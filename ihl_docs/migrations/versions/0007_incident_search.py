"""incident word search (FTS5 / tsvector) and the indexes of the incident list

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

SQLite: an FTS5 table with external content over the incident's text columns, kept in step by
triggers. A later migration that rebuilds `incident` in batch mode drops these triggers with the
old table: it uses `ihl_docs.migrations.support.incident_batch`, which creates them again.
PostgreSQL: a stored generated tsvector column ('simple' configuration, Latin diacritics folded,
punctuation the parser would join turned into spaces) with a GIN index.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ["title", "place_name", "admin_area", "narrative", "weapon_type", "munition_details",
           "ref"]

FTS = ("CREATE VIRTUAL TABLE incident_fts USING fts5("
       + ", ".join(COLUMNS)
       + ", content='incident', content_rowid='id', "
       "tokenize='unicode61 remove_diacritics 2', prefix='2 3')")

_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)
_cols = ", ".join(COLUMNS)
TRIGGERS = [
    f"CREATE TRIGGER incident_fts_insert AFTER INSERT ON incident BEGIN "
    f"INSERT INTO incident_fts (rowid, {_cols}) VALUES (new.id, {_new}); END",
    f"CREATE TRIGGER incident_fts_delete AFTER DELETE ON incident BEGIN "
    f"INSERT INTO incident_fts (incident_fts, rowid, {_cols}) "
    f"VALUES ('delete', old.id, {_old}); END",
    f"CREATE TRIGGER incident_fts_update AFTER UPDATE OF {_cols} ON incident BEGIN "
    f"INSERT INTO incident_fts (incident_fts, rowid, {_cols}) "
    f"VALUES ('delete', old.id, {_old}); "
    f"INSERT INTO incident_fts (rowid, {_cols}) VALUES (new.id, {_new}); END",
]

# Frozen here (the application's copy is ihl_docs/incidents/search.py): the query side must
# fold and split words the same way.
PG_SEPARATORS = "-./@_:+=?&#~<>"


def _latin_fold() -> tuple[str, str]:
    source, target = [], []
    for char in map(chr, [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]):
        base = "".join(c for c in unicodedata.normalize("NFKD", char)
                       if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
            source.append(char)
            target.append(base.lower())
    return "".join(source), "".join(target)


def _pg_document() -> str:
    source, target = _latin_fold()
    source += PG_SEPARATORS
    target += " " * len(PG_SEPARATORS)
    text = " || ' ' || ".join(f"coalesce({c}, '')" for c in COLUMNS)
    return f"to_tsvector('simple'::regconfig, translate({text}, '{source}', '{target}'))"


# The list's order, across cases and within one, followed by the filtered columns so that
# filtering and counting read only the index. They replace the single-column indexes, which
# led SQLite to read whole rows (long narratives) for each candidate.
LIST = ['occurred_from', 'id', 'case_id', 'occurred_to', 'incident_type', 'workflow_status',
        'verification_status']
CASE_LIST = ['case_id', 'occurred_from', 'id', 'occurred_to', 'incident_type', 'workflow_status',
             'verification_status']
REPLACED = ['case_id', 'incident_type', 'occurred_from', 'workflow_status']


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        for column in REPLACED:
            batch_op.drop_index(f'ix_incident_{column}')
        batch_op.create_index('ix_incident_list', LIST, unique=False)
        batch_op.create_index('ix_incident_case_list', CASE_LIST, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"ALTER TABLE incident ADD COLUMN search_vector tsvector "
                           f"GENERATED ALWAYS AS ({_pg_document()}) STORED"))
        op.execute("CREATE INDEX ix_incident_search_vector ON incident "
                   "USING gin (search_vector)")
        op.execute("ANALYZE incident")
        return
    op.execute(FTS)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO incident_fts (incident_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_incident_search_vector")
        op.execute("ALTER TABLE incident DROP COLUMN search_vector")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER incident_fts_{name}")
        op.execute("DROP TABLE incident_fts")
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_case_list')
        batch_op.drop_index('ix_incident_list')
        for column in REPLACED:
            batch_op.create_index(f'ix_incident_{column}', [column], unique=False)
