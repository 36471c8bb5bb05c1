"""Products' own reference and EAN (spreadsheet import and export), stock-takes

The seller's reference is unique per seller (a unique index: NULLs, products without a
reference, do not collide). The stock reasons "import" and "stock-take" need no change here:
the reason column is a VARCHAR(16) without a CHECK of its values. On SQLite the two columns
and the indexes are added in place, without a batch copy of the product table (which would
lose its full-text triggers).

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-04 15:31:17
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_take',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'confirmed', 'cancelled', name='stocktakestatus', native_enum=False, length=10), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_stock_take_closed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_stock_take_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_stock_take_started_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_take'))
    )
    with op.batch_alter_table('stock_take', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_take_organization_id'), ['organization_id'], unique=False)

    op.create_table('stock_take_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stock_take_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('stock_when_counted', sa.Integer(), nullable=False),
    sa.Column('counted_by_id', sa.Integer(), nullable=True),
    sa.Column('counted_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('counted >= 0', name=op.f('ck_stock_take_line_counted_not_negative')),
    sa.ForeignKeyConstraint(['counted_by_id'], ['user.id'], name=op.f('fk_stock_take_line_counted_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['movement_id'], ['stock_movement.id'], name=op.f('fk_stock_take_line_movement_id_stock_movement'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_take_line_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stock_take_id'], ['stock_take.id'], name=op.f('fk_stock_take_line_stock_take_id_stock_take'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_take_line')),
    sa.UniqueConstraint('stock_take_id', 'product_id', name='one_line_per_product')
    )
    with op.batch_alter_table('stock_take_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_take_line_product_id'), ['product_id'], unique=False)

    op.add_column('product', sa.Column('reference', sa.String(length=40), nullable=True))
    op.add_column('product', sa.Column('ean', sa.String(length=13), nullable=True))
    op.create_index('ix_product_seller_ean', 'product', ['organization_id', 'ean'], unique=False)
    op.create_index('ux_product_seller_reference', 'product', ['organization_id', 'reference'],
                    unique=True)



def downgrade():
    op.drop_index('ux_product_seller_reference', table_name='product')
    op.drop_index('ix_product_seller_ean', table_name='product')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('ean')
        batch_op.drop_column('reference')

    with op.batch_alter_table('stock_take_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_take_line_product_id'))

    op.drop_table('stock_take_line')
    with op.batch_alter_table('stock_take', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_take_organization_id'))

    op.drop_table('stock_take')
