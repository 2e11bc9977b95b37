"""verification runs and their findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('files_checked', sa.Integer(), nullable=False),
    sa.Column('bytes_checked', sa.BigInteger(), nullable=False),
    sa.Column('dossiers_checked', sa.Integer(), nullable=False),
    sa.Column('custody_checked', sa.Integer(), nullable=False),
    sa.Column('audit_checked', sa.Integer(), nullable=False),
    sa.Column('checkpoints_checked', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('audit_head_seq', sa.Integer(), nullable=True),
    sa.Column('audit_head_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_verification_run_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_run'))
    )
    with op.batch_alter_table('verification_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_run_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_run_ref'), ['ref'], unique=True)
        batch_op.create_index(batch_op.f('ix_verification_run_status'), ['status'], unique=False)

    op.create_table('verification_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('acknowledged_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=300), nullable=False),
    sa.Column('acknowledgement', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['verification_run.id'], name=op.f('fk_verification_finding_run_id_verification_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_finding'))
    )
    with op.batch_alter_table('verification_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_finding_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_finding_run_id'))
    op.drop_table('verification_finding')
    with op.batch_alter_table('verification_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_run_status'))
        batch_op.drop_index(batch_op.f('ix_verification_run_ref'))
        batch_op.drop_index(batch_op.f('ix_verification_run_case_id'))
    op.drop_table('verification_run')
