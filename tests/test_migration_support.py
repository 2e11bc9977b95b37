"""A migration that changes the incident table (a new incident field) rebuilds it on SQLite; done
through `incident_batch`, the word search still finds incidents filed and edited afterwards,
while a plain batch operation would silently lose the search's triggers."""

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Text

from ihl_docs.core.db import open_session
from ihl_docs.core.models import Case, User
from ihl_docs.incidents.services import IncidentFilter, search_incidents
from ihl_docs.migrations.support import incident_batch
from tests.builders import make_case, make_incident, make_user
from tests.database_support import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the rebuild and the triggers are SQLite's")


def _rebuild(engine, batch):
    """Add, then drop, a column of `incident` with a full table rebuild, as a migration would."""
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        with batch(recreate="always") as batch_op:
            batch_op.add_column(Column("damage_assessment", Text(), nullable=True))
        with batch(recreate="always") as batch_op:
            batch_op.drop_column("damage_assessment")


def _triggers(engine) -> set[str]:
    with engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def _found(app, case, words: str) -> list[str]:
    with open_session(app.extensions["ihl_engine"], write=False) as session:
        rows, _ = search_incidents(session, case, IncidentFilter(q=words))
        return [row.title for row in rows]


def test_a_rebuild_through_incident_batch_keeps_the_search(app, db):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    make_incident(db, case, user, title="Shelling of the granary")
    engine = app.extensions["ihl_engine"]
    db.close()
    _rebuild(engine, incident_batch)
    assert {"incident_fts_insert", "incident_fts_update", "incident_fts_delete"} <= _triggers(engine)
    assert _found(app, case, "granary") == ["Shelling of the granary"]
    with open_session(engine, write=True) as session:
        make_incident(session, session.get(Case, case.id), session.get(User, user.id),
                      title="Strike on the bakery")
    assert _found(app, case, "bakery") == ["Strike on the bakery"]


def test_a_plain_batch_rebuild_loses_the_search_triggers(app):
    """Why incident_batch exists: SQLite drops a table's triggers with the table."""
    def plain(**kwargs):
        from alembic import op

        return op.batch_alter_table("incident", **kwargs)

    engine = app.extensions["ihl_engine"]
    _rebuild(engine, plain)
    assert not {"incident_fts_insert", "incident_fts_update", "incident_fts_delete"} & \
        _triggers(engine)
