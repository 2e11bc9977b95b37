"""The migrations produce exactly the models' schema, and `ihl init` is safe to repeat."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from ihl_docs import models  # noqa: F401
from ihl_docs.models import AuditEntry, User
from ihl_docs.schema import current_revision


def test_migrations_match_models(app):
    engine = app.extensions["ihl_engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
