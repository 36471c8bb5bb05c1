"""Invoicing: numbered quotes, pro-formas, invoices and credit notes, their lines, the
counters that number them per kind and year, and the transfers received against pro-formas

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:18:28

The tables are new and independent of the campaigns' ones (0008).
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoicing_counter',
    sa.Column('kind', sa.Enum('quote', 'proforma', 'invoice', 'credit_note', name='documentkind', native_enum=False, length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_invoicing_counter'))
    )
    op.create_table('invoicing_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('quote', 'proforma', 'invoice', 'credit_note', name='documentkind', native_enum=False, length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('sale_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('related_id', sa.Integer(), nullable=True),
    sa.Column('issuer', sa.JSON(), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_address', sa.String(length=400), nullable=False),
    sa.Column('customer_siret', sa.String(length=14), nullable=True),
    sa.Column('customer_vat_number', sa.String(length=20), nullable=True),
    sa.Column('customer_order_reference', sa.String(length=60), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_excl_vat_cents', sa.Integer(), nullable=False),
    sa.Column('total_vat_cents', sa.Integer(), nullable=False),
    sa.Column('total_incl_vat_cents', sa.Integer(), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('late_penalty_rate_bp', sa.Integer(), nullable=True),
    sa.Column('recovery_indemnity_cents', sa.Integer(), nullable=False),
    sa.Column('transfer_reference', sa.String(length=35), nullable=True),
    sa.Column('payment_status', sa.Enum('awaiting', 'paid', 'short', 'excess', name='paymentstatus', native_enum=False, length=10), nullable=True),
    sa.Column('received_cents', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('received_cents >= 0', name=op.f('ck_invoicing_document_received_not_negative')),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_invoicing_document_sequence_positive')),
    sa.CheckConstraint('total_excl_vat_cents >= 0 AND total_vat_cents >= 0', name=op.f('ck_invoicing_document_totals_not_negative')),
    sa.CheckConstraint('total_incl_vat_cents = total_excl_vat_cents + total_vat_cents', name=op.f('ck_invoicing_document_totals_add_up')),
    sa.ForeignKeyConstraint(['related_id'], ['invoicing_document.id'], name=op.f('fk_invoicing_document_related_id_invoicing_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoicing_document')),
    sa.UniqueConstraint('kind', 'year', 'sequence', name=op.f('uq_invoicing_document_kind_year_sequence')),
    sa.UniqueConstraint('number', name=op.f('uq_invoicing_document_number')),
    sa.UniqueConstraint('transfer_reference', name=op.f('uq_invoicing_document_transfer_reference'))
    )
    with op.batch_alter_table('invoicing_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoicing_document_payment_status'), ['payment_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoicing_document_related_id'), ['related_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoicing_document_subject'), ['subject'], unique=False)

    op.create_table('invoicing_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('vat_treatment', sa.Enum('vat', 'voucher', 'franchise', name='vattreatment', native_enum=False, length=10), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('total_excl_vat_cents', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoicing_line_quantity_positive')),
    sa.CheckConstraint('unit_price_cents >= 0', name=op.f('ck_invoicing_line_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['document_id'], ['invoicing_document.id'], name=op.f('fk_invoicing_line_document_id_invoicing_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoicing_line')),
    sa.UniqueConstraint('document_id', 'position', name=op.f('uq_invoicing_line_document_id_position'))
    )
    op.create_table('invoicing_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('bank_reference', sa.String(length=140), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_invoicing_transfer_amount_not_zero')),
    sa.ForeignKeyConstraint(['document_id'], ['invoicing_document.id'], name=op.f('fk_invoicing_transfer_document_id_invoicing_document')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_invoicing_transfer_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoicing_transfer'))
    )
    with op.batch_alter_table('invoicing_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoicing_transfer_document_id'), ['document_id'], unique=False)



def downgrade():
    with op.batch_alter_table('invoicing_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoicing_transfer_document_id'))

    op.drop_table('invoicing_transfer')
    op.drop_table('invoicing_line')
    with op.batch_alter_table('invoicing_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoicing_document_subject'))
        batch_op.drop_index(batch_op.f('ix_invoicing_document_related_id'))
        batch_op.drop_index(batch_op.f('ix_invoicing_document_payment_status'))

    op.drop_table('invoicing_document')
    op.drop_table('invoicing_counter')
