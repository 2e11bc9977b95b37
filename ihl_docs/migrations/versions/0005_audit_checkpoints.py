"""audit checkpoints

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checkpoint',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_checkpoint'))
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoint')
