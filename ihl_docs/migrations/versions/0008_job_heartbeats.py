"""job heartbeats: a running dossier build or verification says it is alive

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('dossier', 'verification_run'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('heartbeat_at',
                                          ihl_docs.core.dbtypes.UTCDateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    for table in ('verification_run', 'dossier'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('heartbeat_at')
