"""Campaign closing: where a card's value goes at expiry when its issuer chose an association,
the works council's credits from unspent value, and when a campaign was closed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:30:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_campaign_credit_amount_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_credit_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['card_id'], ['gift_card.id'], name=op.f('fk_campaign_credit_card_id_gift_card'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_campaign_credit_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_credit')),
    sa.UniqueConstraint('card_id', name=op.f('uq_campaign_credit_card_id'))
    )
    with op.batch_alter_table('campaign_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_credit_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_credit_organization_id'), ['organization_id'], unique=False)

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_association_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_gift_card_expiry_association_id_organization'), 'organization', ['expiry_association_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_gift_card_expiry_association_id_organization'), type_='foreignkey')
        batch_op.drop_column('expiry_association_id')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('campaign_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_credit_organization_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_credit_campaign_id'))

    op.drop_table('campaign_credit')