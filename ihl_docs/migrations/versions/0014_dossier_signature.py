"""a dossier records its signed file

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The signed PDF (the reproducible one followed by the signature as an incremental update)
    # and the audit log's seq when it was signed; NULL for dossiers built before signing.
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('signed_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('audit_seq_at_signing', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_column('audit_seq_at_signing')
        batch_op.drop_column('signed_size')
        batch_op.drop_column('signed_sha256')
