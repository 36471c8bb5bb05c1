"""The works council's credit deducted from its next campaigns' quotes (campaign_credit_use), and
invoice lines that may be negative for such a credit (a voucher line only)

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-04 16:00:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_credit_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_campaign_credit_use_amount_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_credit_use_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_campaign_credit_use_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quote_id'], ['invoicing_document.id'], name=op.f('fk_campaign_credit_use_quote_id_invoicing_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_credit_use')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_campaign_credit_use_quote_id'))
    )
    with op.batch_alter_table('campaign_credit_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_credit_use_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_credit_use_organization_id'), ['organization_id'], unique=False)

    with op.batch_alter_table('invoicing_line', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoicing_line_unit_price_not_negative'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_invoicing_line_only_a_voucher_credit_is_negative'),
            "unit_price_cents >= 0 OR vat_treatment = 'voucher'")


def downgrade():
    with op.batch_alter_table('invoicing_line', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoicing_line_only_a_voucher_credit_is_negative'), type_='check')
        batch_op.create_check_constraint(op.f('ck_invoicing_line_unit_price_not_negative'),
                                         'unit_price_cents >= 0')

    with op.batch_alter_table('campaign_credit_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_credit_use_organization_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_credit_use_campaign_id'))

    op.drop_table('campaign_credit_use')
