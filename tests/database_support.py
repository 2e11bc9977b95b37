"""The test databases: SQLite by default, PostgreSQL when IHL_TEST_DATABASE_URL names a server.
On PostgreSQL every database of a test run is a schema of its own, so parallel runs never share
tables."""

import os
from graphlib import TopologicalSorter

import sqlalchemy as sa

from ihl_docs.core.db import make_engine

PG_URL = os.environ.get("IHL_TEST_DATABASE_URL", "")


def pg_worker_url(name: str) -> str:
    """The URL of a new, empty schema named after `name` and this process.

    Its connections commit without waiting for the WAL to reach the disk (synchronous_commit
    off): what another connection sees is the same, only a crash of the server itself could lose
    the last commits, and a test database need not survive that."""
    schema = f"ihl_test_{name}_{os.getpid()}"
    admin = sa.create_engine(make_engine(PG_URL).url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csynchronous_commit%3Doff%20-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    admin = sa.create_engine(make_engine(PG_URL).url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


def pg_tables_parents_first(conn) -> list[str]:
    """The tables of the connection's schema (not alembic's), each after the tables it refers
    to: the order to fill them in (and, reversed, to empty them)."""
    tables = [r[0] for r in conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename <> 'alembic_version'")]
    references = conn.exec_driver_sql(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE c.contype = 'f' AND n.nspname = current_schema()").all()
    parents = {t: set() for t in tables}
    for child, parent in references:
        child, parent = child.strip('"'), parent.strip('"')
        if child != parent:
            parents[child].add(parent)
    return list(TopologicalSorter(parents).static_order())
