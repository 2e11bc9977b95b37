"""dossiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('prepared_by', sa.String(length=200), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('case_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('audit_head_seq', sa.Integer(), nullable=True),
    sa.Column('audit_head_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_dossier_case_id_case')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_dossier_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier'))
    )
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_ref'), ['ref'], unique=True)
        batch_op.create_index(batch_op.f('ix_dossier_status'), ['status'], unique=False)

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_counter', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('dossier_counter')

    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_status'))
        batch_op.drop_index(batch_op.f('ix_dossier_ref'))
        batch_op.drop_index(batch_op.f('ix_dossier_case_id'))

    op.drop_table('dossier')
