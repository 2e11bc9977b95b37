"""evidence and custody

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=False),
    sa.Column('source_platform', sa.String(length=200), nullable=False),
    sa.Column('source_author', sa.String(length=300), nullable=False),
    sa.Column('published_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acquired_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acquired_by', sa.String(length=300), nullable=False),
    sa.Column('acquisition_method', sa.Text(), nullable=False),
    sa.Column('sensitivity', sa.String(length=16), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=True),
    sa.Column('credibility', sa.String(length=1), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('media_type', sa.String(length=200), nullable=False),
    sa.Column('capture_time', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('capture_latitude', sa.Float(), nullable=True),
    sa.Column('capture_longitude', sa.Float(), nullable=True),
    sa.Column('capture_device', sa.String(length=300), nullable=False),
    sa.Column('metadata_note', sa.String(length=500), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_evidence_case_id_case')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_evidence_created_by_id_user')),
    sa.ForeignKeyConstraint(['parent_id'], ['evidence.id'], name=op.f('fk_evidence_parent_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('case_id', 'sha256', name='uq_evidence_case_id_sha256')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_ref'), ['ref'], unique=True)
        batch_op.create_index(batch_op.f('ix_evidence_sha256'), ['sha256'], unique=False)

    op.create_table('custody_event',
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('custodian_from', sa.String(length=300), nullable=False),
    sa.Column('custodian_to', sa.String(length=300), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('recorded_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sha256_observed', sa.String(length=64), nullable=True),
    sa.Column('hash_matched', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_custody_event_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_event'))
    )
    with op.batch_alter_table('custody_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_event_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('evidence_derivative',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_derivative_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_derivative')),
    sa.UniqueConstraint('evidence_id', 'purpose', name='uq_evidence_derivative_evidence_id_purpose')
    )
    with op.batch_alter_table('evidence_derivative', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_derivative_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('incident_evidence',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('relevance', sa.Text(), nullable=False),
    sa.Column('linked_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_incident_evidence_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_evidence_incident_id_incident')),
    sa.ForeignKeyConstraint(['linked_by_id'], ['user.id'], name=op.f('fk_incident_evidence_linked_by_id_user')),
    sa.PrimaryKeyConstraint('incident_id', 'evidence_id', name=op.f('pk_incident_evidence'))
    )
    with op.batch_alter_table('incident_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_evidence_evidence_id'), ['evidence_id'], unique=False)

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_counter', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('evidence_counter')

    with op.batch_alter_table('incident_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_evidence_evidence_id'))

    op.drop_table('incident_evidence')
    with op.batch_alter_table('evidence_derivative', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_derivative_evidence_id'))

    op.drop_table('evidence_derivative')
    with op.batch_alter_table('custody_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_event_evidence_id'))

    op.drop_table('custody_event')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_sha256'))
        batch_op.drop_index(batch_op.f('ix_evidence_ref'))
        batch_op.drop_index(batch_op.f('ix_evidence_kind'))
        batch_op.drop_index(batch_op.f('ix_evidence_case_id'))

    op.drop_table('evidence')
