"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

import ihl_docs.core.dbtypes

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=120), nullable=False),
    sa.Column('case_ref', sa.String(length=40), nullable=True),
    sa.Column('change', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_entry_hash'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_case_ref'), ['case_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_entity'), ['entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_entity_id'), ['entity_id'], unique=False)

    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=True)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('case',
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('conflict_classification', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('incident_counter', sa.Integer(), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_case_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case'))
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ref'), ['ref'], unique=True)

    op.create_table('login_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    op.create_table('case_member',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_case_member_added_by_id_user')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_member_case_id_case')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_case_member_user_id_user')),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_member'))
    )
    with op.batch_alter_table('case_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_member_user_id'), ['user_id'], unique=False)

    op.create_table('party',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state_code', sa.String(length=3), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_party_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party')),
    sa.UniqueConstraint('case_id', 'name', name='uq_party_case_id_name')
    )
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_case_id'), ['case_id'], unique=False)

    op.create_table('incident',
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('incident_type', sa.String(length=32), nullable=False),
    sa.Column('occurred_from', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occurred_to', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('date_precision', sa.String(length=16), nullable=False),
    sa.Column('place_name', sa.String(length=300), nullable=False),
    sa.Column('admin_area', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('location_precision_m', sa.Integer(), nullable=True),
    sa.Column('weapon_type', sa.String(length=300), nullable=False),
    sa.Column('munition_details', sa.Text(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('killed_min', sa.Integer(), nullable=True),
    sa.Column('killed_max', sa.Integer(), nullable=True),
    sa.Column('injured_min', sa.Integer(), nullable=True),
    sa.Column('injured_max', sa.Integer(), nullable=True),
    sa.Column('children_killed', sa.Integer(), nullable=True),
    sa.Column('children_injured', sa.Integer(), nullable=True),
    sa.Column('civilian_objects', ihl_docs.core.dbtypes.JSONList(), nullable=False),
    sa.Column('military_objective_notes', sa.Text(), nullable=False),
    sa.Column('verification_status', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('responsible_party_id', sa.Integer(), nullable=True),
    sa.Column('workflow_status', sa.String(length=20), nullable=False),
    sa.Column('created_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', ihl_docs.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_incident_case_id_case')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_incident_created_by_id_user')),
    sa.ForeignKeyConstraint(['responsible_party_id'], ['party.id'], name=op.f('fk_incident_responsible_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_incident_type'), ['incident_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_occurred_from'), ['occurred_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_ref'), ['ref'], unique=True)
        batch_op.create_index(batch_op.f('ix_incident_workflow_status'), ['workflow_status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_workflow_status'))
        batch_op.drop_index(batch_op.f('ix_incident_ref'))
        batch_op.drop_index(batch_op.f('ix_incident_occurred_from'))
        batch_op.drop_index(batch_op.f('ix_incident_incident_type'))
        batch_op.drop_index(batch_op.f('ix_incident_case_id'))

    op.drop_table('incident')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_case_id'))

    op.drop_table('party')
    with op.batch_alter_table('case_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_member_user_id'))

    op.drop_table('case_member')
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))

    op.drop_table('login_session')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ref'))

    op.drop_table('case')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_email'))

    op.drop_table('user')
    op.drop_table('login_throttle')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_entity'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_case_ref'))

    op.drop_table('audit_entry')
