"""The migrations produce exactly the models' schema, and `ihl init` is safe to repeat."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from ihl_docs.core import models  # noqa: F401
from ihl_docs.core.models import AuditEntry, User
from ihl_docs.core.schema import current_revision, include_name


def test_migrations_match_models(app):
    engine = app.extensions["ihl_engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": include_name})  # as env.py: no FTS shadows
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_init_is_idempotent_and_creates_one_admin(app, runner, db):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "One-time password" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    assert "One-time password" not in second.output
    admins = db.exec(select(User)).all()
    assert [(u.email, u.role, u.must_change_password) for u in admins] == [
        ("admin@example.org", "admin", True)]
    assert current_revision(app.extensions["ihl_engine"]) is not None
    # the admin's creation is itself audited
    assert db.exec(select(AuditEntry.entity_id).where(AuditEntry.entity == "user")).all() == [
        "admin@example.org"]


def test_sqlite_connection_settings(app, db):
    if db.get_bind().dialect.name != "sqlite":
        return
    assert db.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert db.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert db.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_dossier_migration_numbers_dossiers_of_existing_cases_from_one(tmp_path):
    """0004 gives cases opened before it a dossier counter of 0, and can be undone."""
    from alembic import command

    from ihl_docs.core.db import make_engine
    from ihl_docs.core.schema import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = alembic_config()

    def migrate(step, revision):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    migrate(command.upgrade, "0003")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO \"case\" (ref, title, summary, conflict_classification, status, "
            "incident_counter, evidence_counter, created_at, version) "
            "VALUES ('OLD-1', 'Before dossiers', '', 'both', 'open', 0, 0, '2020-01-01', 1)")
    migrate(command.upgrade, "head")
    with engine.begin() as connection:
        assert connection.exec_driver_sql(
            "SELECT dossier_counter FROM \"case\" WHERE ref = 'OLD-1'").scalar() == 0
    migrate(command.downgrade, "0003")
    migrate(command.upgrade, "head")
    engine.dispose()
