"""Database engine, per-request session and the SQLite settings every connection gets."""

from flask import current_app, g, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ihl_docs.core.file_modes import prepare_sqlite_file

SQLITE_BUSY_TIMEOUT_MS = 30_000
# How a service locks the row it is about to change (a counter, a version): PostgreSQL's FOR NO
# KEY UPDATE, which keeps other writers out but still lets another transaction check a foreign
# key pointing at the row (FOR KEY SHARE). A plain FOR UPDATE blocks those checks, and two
# transactions each adding a child to the other's locked row deadlock. SQLite ignores it (its
# writers are serialised by BEGIN IMMEDIATE).
ROW_LOCK = {"key_share": True}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself, so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Read through the page cache by memory mapping (256 MiB): list counts over 100,000
        # incidents take half the time.
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        # Writers take SQLite's write lock at BEGIN, so audit appends are serialised and a
        # transaction never fails half-way on a snapshot another writer has moved past.
        immediate = conn.get_execution_options().get("ihl_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_session(engine: Engine, write: bool = True) -> Session:
    """A session; `write=True` on SQLite begins with BEGIN IMMEDIATE."""
    bind = engine.execution_options(ihl_write=True) if write else engine
    return Session(bind=bind, expire_on_commit=False)


def open_snapshot(engine: Engine) -> Session:
    """A reading session whose statements all see one snapshot of the database, as a
    verification needs (read in pieces under READ COMMITTED, it could see a custody event's
    audit entry committed after it read the events): PostgreSQL's REPEATABLE READ. SQLite's
    read transactions are snapshots already."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return open_session(engine, write=False)


def get_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        write = request.method in WRITE_METHODS if has_request_context() else True
        g.db_session = open_session(current_app.extensions["ihl_engine"], write=write)
    return g.db_session


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
