"""a case's register of protected terms; a dossier records its disclosure confirmation and
the items whose images it annexes at full resolution

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'protected_term',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('match', sa.String(length=16), nullable=False),
        sa.Column('term', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'number'),
    )
    with op.batch_alter_table('protected_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protected_term_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disclosure', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('full_image_refs', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_column('full_image_refs')
        batch_op.drop_column('disclosure')
    with op.batch_alter_table('protected_term', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protected_term_case_id'))
    op.drop_table('protected_term')
