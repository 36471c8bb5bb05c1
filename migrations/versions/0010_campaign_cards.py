"""Campaign cards: named gift cards (holder's name and email) restricted to a profile, the card
each beneficiary received (issuing twice issues nothing), and how a campaign was paid and when
its cards were issued

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:51:01

The restriction profile tables (0008) now belong to the gift cards' models; their names are
unchanged, so nothing moves in the database.
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('issued_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_campaign_order_id'), ['order_id'])
        batch_op.create_foreign_key(batch_op.f('fk_campaign_order_id_order'), 'order', ['order_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_campaign_beneficiary_card_id'), ['card_id'])
        batch_op.create_foreign_key(batch_op.f('fk_campaign_beneficiary_card_id_gift_card'), 'gift_card', ['card_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_name', sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column('holder_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('restriction_profile_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_gift_card_holder_email'), ['holder_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_gift_card_restriction_profile_id'), ['restriction_profile_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_gift_card_restriction_profile_id_restriction_profile'), 'restriction_profile', ['restriction_profile_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('gift_card', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_gift_card_restriction_profile_id_restriction_profile'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_gift_card_restriction_profile_id'))
        batch_op.drop_index(batch_op.f('ix_gift_card_holder_email'))
        batch_op.drop_column('restriction_profile_id')
        batch_op.drop_column('holder_email')
        batch_op.drop_column('holder_name')

    with op.batch_alter_table('campaign_beneficiary', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaign_beneficiary_card_id_gift_card'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_campaign_beneficiary_card_id'), type_='unique')
        batch_op.drop_column('card_id')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaign_order_id_order'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_campaign_order_id'), type_='unique')
        batch_op.drop_column('issued_at')
        batch_op.drop_column('paid_at')
        batch_op.drop_column('order_id')
