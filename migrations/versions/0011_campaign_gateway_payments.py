"""Campaigns paid through the gateway: each attempt (card or Stripe bank transfer) with the
order it opened and the pro-forma it pays, what an order without goods pays for, and a works
council's customer at Stripe (its virtual IBAN)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:20:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('proforma_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_campaign_payment_by_id_user'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_payment_campaign_id_campaign'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_campaign_payment_order_id_order')),
        sa.ForeignKeyConstraint(['proforma_id'], ['invoicing_document.id'], name=op.f('fk_campaign_payment_proforma_id_invoicing_document')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_payment')),
        sa.UniqueConstraint('order_id', name=op.f('uq_campaign_payment_order_id')),
    )
    with op.batch_alter_table('campaign_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_payment_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_payment_proforma_id'), ['proforma_id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=250), nullable=True))

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_customer_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_organization_stripe_customer_id'), ['stripe_customer_id'])


def downgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organization_stripe_customer_id'), type_='unique')
        batch_op.drop_column('stripe_customer_id')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('description')

    with op.batch_alter_table('campaign_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_payment_proforma_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_payment_campaign_id'))

    op.drop_table('campaign_payment')
