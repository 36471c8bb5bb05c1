"""Campaign reminders: each reminder sent to an employee (one per kind), their opt-out, when a
named card's page was first opened, and whether its holder shares its balance with the works
council

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 19:25:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('sent_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['campaign_beneficiary.id'], name=op.f('fk_campaign_reminder_beneficiary_id_campaign_beneficiary'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_reminder')),
    sa.UniqueConstraint('beneficiary_id', 'kind', name=op.f('uq_campaign_reminder_beneficiary_id_kind'))
    )
    with op.batch_alter_table('campaign_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_reminder_beneficiary_id'), ['beneficiary_id'], unique=False)

    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_off_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('balance_shared_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.drop_column('balance_shared_at')
        batch_op.drop_column('opened_at')

    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.drop_column('reminders_off_at')

    with op.batch_alter_table('campaign_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_reminder_beneficiary_id'))

    op.drop_table('campaign_reminder')