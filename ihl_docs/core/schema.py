"""Creating and upgrading the schema with Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    cfg = alembic_config()
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return before, head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# The incident word search's own database objects (migration 0007), which no model describes.
FTS_TABLE = "incident_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_incident_search_vector"


def include_name(name, type_, parent_names) -> bool:
    """Leave the search shadow objects out of Alembic's comparison with the models."""
    if type_ == "table":
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    if type_ == "column" and parent_names.get("table_name") == "incident":
        return name != PG_COLUMN
    if type_ == "index":
        return name != PG_INDEX
    return True
