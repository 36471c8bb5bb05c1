"""Quick listing and alerts: a second-hand item's condition and defects, a product's low-stock
threshold, draft products (a new value of the product's status, a VARCHAR: no DDL), and each
member's choice of the daily alerts email

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-04 15:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.Enum('new', 'as_new', 'very_good', 'good', 'fair', 'for_parts', name='condition', native_enum=False, length=12), nullable=True))
        batch_op.add_column(sa.Column('defects', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('low_stock_threshold', sa.Integer(), nullable=True))

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_alerts', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('daily_alerts_sent_on', sa.Date(), nullable=True))


def downgrade():
    # Drafts were never for sale: they stay out of sight as archived products.
    op.execute("UPDATE product SET status = 'archived' WHERE status = 'draft'")
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('daily_alerts_sent_on')
        batch_op.drop_column('daily_alerts')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('low_stock_threshold')
        batch_op.drop_column('defects')
        batch_op.drop_column('condition')
