"""Applications built once per test process, each test's database made fresh for it.

Building an application (`create_app`) costs more than most tests: Werkzeug compiles every route
of every blueprint. A test process therefore keeps the applications it has built, one per
configuration, and hands the same one to every test that configures it alike. What a test can
change is put back before the next one uses it: the configuration, the extensions, the evidence
store and the instance folder (emptied: `home`), and the database:

- SQLite: each test keeps its own database file (a copy of the migrated template, as before). The
  kept application's engine is pointed at it: its pooled connections are closed after every test,
  and every new connection opens the file of the test running now (`do_connect`).
- PostgreSQL: each test process has one schema, emptied after every test (`PgReset`).
"""

import copy
import os
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from ihl_docs import create_app
from ihl_docs.core.file_modes import make_folder
from tests.database_support import pg_tables_parents_first

SQLITE_PREFIX = "sqlite:///"


def empty_folder(path: Path) -> None:
    """Remove `path` and all it holds (stored files are read-only: that is no obstacle)."""
    if path.exists():
        shutil.rmtree(path)


@dataclass
class Kept:
    """An application kept for reuse, and what it was like when built."""
    app: Flask
    config: dict
    extensions: dict
    tasks: dict
    database: list = field(default_factory=lambda: [None])  # the SQLite file of the running test


class SharedApps:
    """The applications of this test process, by configuration (the most recent `size`)."""

    def __init__(self, size: int = 6):
        self.size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()

    @staticmethod
    def _key(config: dict) -> str:
        # The database is the test's own and is pointed at per test: not part of the key. The
        # IHL_* environment is (create_app reads it, IHL_INSTANCE_DIR among others).
        settings = sorted((k, repr(v)) for k, v in config.items() if k != "DATABASE_URL")
        environment = sorted((k, v) for k, v in os.environ.items() if k.startswith("IHL_"))
        return repr((settings, environment))

    def app_for(self, config: dict) -> Flask:
        """The kept application for `config`, as built, on the database config names."""
        key = self._key(config)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._build(config)
            self._kept[key] = kept
            while len(self._kept) > self.size:
                _, evicted = self._kept.popitem(last=False)
                evicted.app.extensions["ihl_engine"].dispose()
        self._kept.move_to_end(key)
        self._restore(kept, config["DATABASE_URL"])
        return kept.app

    def _build(self, config: dict) -> Kept:
        app = create_app(config)
        kept = Kept(app=app, config=copy.deepcopy(dict(app.config)),
                    extensions=_registries_copied(app.extensions),
                    tasks=dict(app.extensions["ihl_tasks"]))
        engine = app.extensions["ihl_engine"]
        if engine.dialect.name == "sqlite":
            database = kept.database

            @event.listens_for(engine, "do_connect")
            def to_the_running_tests_database(dialect, record, cargs, cparams):
                cargs[0] = database[0]  # pysqlite: sqlite3.connect(filename, **cparams)
        return kept

    @staticmethod
    def _restore(kept: Kept, database_url: str) -> None:
        app = kept.app
        app.config.clear()
        app.config.update(copy.deepcopy(kept.config))
        app.config["DATABASE_URL"] = database_url
        app.extensions.clear()
        app.extensions.update(_registries_copied(kept.extensions))
        app.extensions["ihl_tasks"].clear()
        app.extensions["ihl_tasks"].update(kept.tasks)
        engine = app.extensions["ihl_engine"]
        engine.dispose()  # no connection of an earlier test is reused
        if engine.dialect.name == "sqlite":
            assert database_url.startswith(SQLITE_PREFIX), database_url
            kept.database[0] = database_url[len(SQLITE_PREFIX):]
        store = app.extensions["ihl_store"]
        make_folder(store.tmp)  # the store as a new one leaves it

    def release(self, app: Flask) -> None:
        """After a test: close the connections to its database (SQLite: the file is its own)."""
        engine = app.extensions["ihl_engine"]
        if engine.dialect.name == "sqlite":
            engine.dispose()

    def close(self) -> None:
        for kept in self._kept.values():
            kept.app.extensions["ihl_engine"].dispose()
        self._kept.clear()


class PgReset:
    """Empties the tables of a PostgreSQL schema and restarts its sequences, as TRUNCATE ...
    RESTART IDENTITY would, but by DELETE: a test fills a few rows of a few tables, and TRUNCATE
    (a new file for every table and index) took 50 to 200 ms each time where DELETE takes a few."""

    def __init__(self, engine):
        self.engine = engine
        with engine.connect() as conn:
            # A table is emptied before the tables it refers to (its rows would hold them).
            order = [f'"{t}"' for t in reversed(pg_tables_parents_first(conn))]
            sequences = [r[0] for r in conn.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")]
        statements = [f"DELETE FROM {t}" for t in order]
        statements += [f'ALTER SEQUENCE "{s}" RESTART' for s in sequences]
        self.sql = "; ".join(statements)

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            # A connection a test left in a transaction would hold locks: fail, never hang.
            conn.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
            conn.exec_driver_sql(self.sql)


def _registries_copied(extensions: dict) -> dict:
    """The extensions, with the features' registries (record parts, dossier parts, case page
    sections …: lists and dicts) copied, so what a test registers goes with it."""
    return {name: copy.copy(value) if isinstance(value, (list, dict)) else value
            for name, value in extensions.items()}
