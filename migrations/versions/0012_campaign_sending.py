"""Campaign sending: each beneficiary's card email queued, sent, or failing (attempts and the
last error), and an index to count what is sent per campaign

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 18:30:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_queued_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('send_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('send_error', sa.String(length=300), nullable=True))
        batch_op.create_index('ix_campaign_beneficiary_campaign_sent', ['campaign_id', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_beneficiary_campaign_sent')
        batch_op.drop_column('send_error')
        batch_op.drop_column('send_failures')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('send_queued_at')
