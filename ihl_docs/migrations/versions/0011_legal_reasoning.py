"""legal reasoning: the second catalogue edition's fields, treaty participation as a legal team
keeps it, the ICC's jurisdiction facts, attribution of a party to a state, an incident's time
zone and approval note

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes
from ihl_docs.migrations.support import incident_batch

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('binds', sa.String(length=24), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('jurisdiction_note', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('inoperative', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('provision_element', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('instrument_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('signature', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('in_force_for_state', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_effective', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('origin', sa.String(length=16), nullable=False,
                                      server_default='catalogue'))
        batch_op.add_column(sa.Column('entered_by', sa.String(length=254), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('entered_at', ihl_docs.core.dbtypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default='1'))
    op.create_table(
        'icc_basis',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=3), nullable=False),
        sa.Column('situation', sa.String(length=300), nullable=False),
        sa.Column('reference', sa.String(length=300), nullable=False),
        sa.Column('lodged_on', sa.Date(), nullable=True),
        sa.Column('period_from', sa.Date(), nullable=True),
        sa.Column('period_to', sa.Date(), nullable=True),
        sa.Column('in_effect', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=40), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('confidence', sa.String(length=20), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('entered_by', sa.String(length=254), nullable=False),
        sa.Column('entered_at', ihl_docs.core.dbtypes.UTCDateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_icc_basis')))
    with op.batch_alter_table('icc_basis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_icc_basis_key'), ['key'], unique=True)
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributed_state', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('attribution', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('attribution_note', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('attribution_evidence', ihl_docs.core.dbtypes.JSONList(),
                                      nullable=False, server_default='[]'))
    with incident_batch(schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('utc_offset_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approval_note', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with incident_batch(schema=None) as batch_op:
        batch_op.drop_column('approval_note')
        batch_op.drop_column('utc_offset_minutes')
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('party', schema=None) as batch_op:
        for column in ('attribution_evidence', 'attribution_note', 'attribution',
                       'attributed_state'):
            batch_op.drop_column(column)
    op.drop_table('icc_basis')
    with op.batch_alter_table('instrument_party', schema=None) as batch_op:
        for column in ('version', 'entered_at', 'entered_by', 'origin', 'source',
                       'withdrawal_effective', 'in_force_for_state', 'signature', 'action',
                       'deposit'):
            batch_op.drop_column(column)
    with op.batch_alter_table('provision_element', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.drop_column('inoperative')
        batch_op.drop_column('jurisdiction_note')
        batch_op.drop_column('binds')
