"""What the benchmark scripts share: a temporary PostgreSQL database next to a given one."""


def postgres_database(url: str, name: str, create: bool) -> str:
    """Create (or drop) database `name` on the server of `url`; return its URL."""
    import sqlalchemy as sa

    from ihl_docs.core.db import make_engine

    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name
