"""verification runs count the records held against the replayed audit log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verification_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_checked', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('verification_run', schema=None) as batch_op:
        batch_op.drop_column('records_checked')
