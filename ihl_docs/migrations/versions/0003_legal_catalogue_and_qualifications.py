"""legal catalogue and qualifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=200), nullable=False),
    sa.Column('adopted', sa.String(length=300), nullable=False),
    sa.Column('entry_into_force', sa.String(length=300), nullable=False),
    sa.Column('depositary', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument'))
    )
    with op.batch_alter_table('instrument', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_short_name'), ['short_name'], unique=True)

    op.create_table('suggestion_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_type', sa.String(length=32), nullable=True),
    sa.Column('weapon_keyword', sa.String(length=100), nullable=False),
    sa.Column('requires_civilian_objects', sa.Boolean(), nullable=False),
    sa.Column('provision_key', sa.String(length=60), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_rule'))
    )
    op.create_table('instrument_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('since', sa.String(length=10), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('confidence', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_instrument_party_instrument_id_instrument')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_party')),
    sa.UniqueConstraint('instrument_id', 'state', name='uq_instrument_party_instrument_id_state')
    )
    with op.batch_alter_table('instrument_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_party_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('provision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('article', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('applies_to', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('related', ihl_docs.core.dbtypes.JSONList(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('verification', sa.String(length=40), nullable=False),
    sa.Column('elements_source', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_provision_instrument_id_instrument')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provision'))
    )
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provision_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_provision_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provision_key'), ['key'], unique=True)

    op.create_table('provision_element',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provision_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['provision_id'], ['provision.id'], name=op.f('fk_provision_element_provision_id_provision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provision_element')),
    sa.UniqueConstraint('provision_id', 'number', name='uq_provision_element_provision_id_number')
    )
    with op.batch_alter_table('provision_element', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provision_element_provision_id'), ['provision_id'], unique=False)

    op.create_table('qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('provision_id', sa.Integer(), nullable=False),
    sa.Column('assessment', sa.String(length=16), nullable=False),
    sa.Column('analysis', sa.Text(), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_qualification_created_by_id_user')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_qualification_incident_id_incident')),
    sa.ForeignKeyConstraint(['provision_id'], ['provision.id'], name=op.f('fk_qualification_provision_id_provision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification')),
    sa.UniqueConstraint('incident_id', 'provision_id', name='uq_qualification_incident_id_provision_id')
    )
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualification_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qualification_provision_id'), ['provision_id'], unique=False)

    op.create_table('element_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('element_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualification.id'], name=op.f('fk_element_finding_qualification_id_qualification')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_element_finding')),
    sa.UniqueConstraint('qualification_id', 'element_number', name='uq_element_finding_qualification_id_element_number')
    )
    with op.batch_alter_table('element_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_finding_qualification_id'), ['qualification_id'], unique=False)

    op.create_table('element_evidence',
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_element_evidence_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['finding_id'], ['element_finding.id'], name=op.f('fk_element_evidence_finding_id_element_finding')),
    sa.PrimaryKeyConstraint('finding_id', 'evidence_id', name=op.f('pk_element_evidence'))
    )
    with op.batch_alter_table('element_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_evidence_evidence_id'), ['evidence_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('element_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_evidence_evidence_id'))

    op.drop_table('element_evidence')
    with op.batch_alter_table('element_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_finding_qualification_id'))

    op.drop_table('element_finding')
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qualification_provision_id'))
        batch_op.drop_index(batch_op.f('ix_qualification_incident_id'))

    op.drop_table('qualification')
    with op.batch_alter_table('provision_element', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provision_element_provision_id'))

    op.drop_table('provision_element')
    with op.batch_alter_table('provision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provision_key'))
        batch_op.drop_index(batch_op.f('ix_provision_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_provision_category'))

    op.drop_table('provision')
    with op.batch_alter_table('instrument_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_party_instrument_id'))

    op.drop_table('instrument_party')
    op.drop_table('suggestion_rule')
    with op.batch_alter_table('instrument', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_short_name'))

    op.drop_table('instrument')
