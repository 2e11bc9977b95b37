"""The bundled legal catalogue, loaded once per test process and copied into the tests' databases.

Loading the catalogue (`catalogue.load_bundled`: 12 instruments, 105 provisions, their elements,
the suggestion rules, an audit entry for each) takes 0.3 to 1 s; about 250 tests need it. Loaded
into a new database, it always gives the same rows, ids and sequence values, timestamps aside.
So it is loaded once into a database of the test process's own, and `builders.load_catalogue`
copies those rows into a test's database when that database is still as migrated: no row in any
table, no id used. Anywhere else (a database with rows, another kind of database) the catalogue
is loaded as before. The rows copied are those of a real load, hash chain of the audit log and
all: only their timestamps are those of the first load.
"""

import sqlite3
from graphlib import TopologicalSorter
from pathlib import Path

from sqlmodel import Session

from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.schema import upgrade
from tests.database_support import pg_tables_parents_first


def _load(session: Session) -> None:
    from ihl_docs.provisions import catalogue

    catalogue.load_bundled(session, actor="test")
    session.commit()


class SqliteCatalogue:
    """The catalogue's rows read from a SQLite database it was loaded into."""

    dialect = "sqlite"

    def __init__(self, folder: Path, template: Path):
        path = folder / "catalogue.sqlite3"
        path.write_bytes(template.read_bytes())
        engine = make_engine(f"sqlite:///{path}")
        with open_session(engine) as session:
            _load(session)
        engine.dispose()
        with sqlite3.connect(path) as source:
            self.tables = _sqlite_tables(source)
            self.revision = source.execute("SELECT version_num FROM alembic_version").fetchone()
            self.rows = {}
            for table in self.tables:
                cursor = source.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
                rows = cursor.fetchall()
                if rows:
                    self.rows[table] = ([c[0] for c in cursor.description], rows)
            # Tables with AUTOINCREMENT keep their counters in sqlite_sequence (if there are any).
            self.autoincrement = source.execute("SELECT 1 FROM sqlite_master WHERE name = "
                                                "'sqlite_sequence'").fetchone() is not None
            self.sequences = (source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
                              if self.autoincrement else [])
        source.close()

    def pristine(self, conn) -> bool:
        if conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchone() != \
                self.revision:
            return False
        probes = " UNION ALL ".join(f'SELECT 1 FROM (SELECT 1 FROM "{t}" LIMIT 1)'
                                    for t in self.tables)
        if conn.exec_driver_sql(probes).first() is not None:
            return False
        return not self.autoincrement or \
            conn.exec_driver_sql("SELECT 1 FROM sqlite_sequence LIMIT 1").first() is None

    def copy(self, conn) -> None:
        for table, (columns, rows) in self.rows.items():
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        if self.sequences:
            conn.exec_driver_sql("DELETE FROM sqlite_sequence")
            conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                                 self.sequences)


def _sqlite_tables(source) -> list[str]:
    """The tables of the schema, parents first; the full-text index (a virtual table and its
    shadow tables, kept by triggers) and SQLite's own tables left out."""
    rows = source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    tables = [name for name, _ in rows
              if not name.startswith("sqlite_") and name != "alembic_version"
              and not any(name == v or name.startswith(v + "_") for v in virtual)]
    parents = {t: {r[2] for r in source.execute(f'PRAGMA foreign_key_list("{t}")')} - {t}
               for t in tables}
    return list(TopologicalSorter(parents).static_order())


class PgCatalogue:
    """The catalogue loaded into a PostgreSQL schema of its own, copied server-side."""

    dialect = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.schema = url.rsplit("%3D", 1)[1]
        engine = make_engine(url)
        upgrade(engine)
        with open_session(engine) as session:
            _load(session)
        with engine.connect() as conn:
            self.revision = conn.exec_driver_sql(
                "SELECT version_num FROM alembic_version").fetchone()
            self.tables = pg_tables_parents_first(conn)
            self.filled = [t for t in self.tables
                           if conn.exec_driver_sql(f'SELECT 1 FROM "{t}" LIMIT 1').first()]
            self.columns = {t: [r[0] for r in conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %(t)s AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position", {"t": t})] for t in self.filled}
            self.sequences = conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL").all()
        engine.dispose()

    def pristine(self, conn) -> bool:
        if conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchone() != \
                self.revision:
            return False
        probes = " UNION ALL ".join(f'SELECT 1 FROM (SELECT 1 FROM "{t}" LIMIT 1) AS "{t}"'
                                    for t in self.tables)
        if conn.exec_driver_sql(probes).first() is not None:
            return False
        return conn.exec_driver_sql("SELECT 1 FROM pg_sequences WHERE schemaname = "
                                    "current_schema() AND last_value IS NOT NULL").first() is None

    def copy(self, conn) -> None:
        statements = []
        for table in self.filled:
            names = ", ".join(f'"{c}"' for c in self.columns[table])
            statements.append(f'INSERT INTO "{table}" ({names}) '
                              f'SELECT {names} FROM "{self.schema}"."{table}"')
        statements += [f"SELECT setval('\"{name}\"', {value})" for name, value in self.sequences]
        conn.exec_driver_sql("; ".join(statements))


class CatalogueCopier:
    """builders.load_catalogue's short cut: `copier(session)` copies the catalogue into the
    session's database and returns True when that database is pristine, else returns False."""

    def __init__(self, dialect: str, make):
        self.dialect = dialect  # of the tests' databases: "sqlite" or "postgresql"
        self._make = make       # -> SqliteCatalogue | PgCatalogue, called on first use
        self._catalogue = None

    @property
    def catalogue(self):
        if self._catalogue is None:
            self._catalogue = self._make()
        return self._catalogue

    def __call__(self, session: Session) -> bool:
        conn = session.connection()
        if conn.dialect.name != self.dialect or not self.catalogue.pristine(conn):
            return False
        self.catalogue.copy(conn)
        session.commit()
        return True
