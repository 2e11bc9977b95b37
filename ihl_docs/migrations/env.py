"""Alembic environment: runs inside `ihl init` with the application's engine."""

from alembic import context
from sqlmodel import SQLModel

from ihl_docs.core import models  # noqa: F401  (registers every table on the metadata)
from ihl_docs.core.schema import include_name

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from ihl_docs.core.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the word search's own tables and column
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
