"""Audience and impact: the public pages' daily view counts, and a product's reuse weight and
impact kind (issue 17)

Revision ID: 0015
Revises: 0020
Create Date: 2026-12-04 15:30:47
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('page_view_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('referrer', sa.String(length=100), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.CheckConstraint('views > 0', name=op.f('ck_page_view_day_views_positive')),
    sa.PrimaryKeyConstraint('day', 'kind', 'object_id', 'referrer', name=op.f('pk_page_view_day'))
    )
    with op.batch_alter_table('page_view_day', schema=None) as batch_op:
        batch_op.create_index('ix_page_view_day_page', ['kind', 'object_id', 'day'], unique=False)

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reuse_weight_grams', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('impact_kind', sa.Enum('reuse', 'repair', 'fair_trade', 'local_food', 'integration', name='impactkind', native_enum=False, length=12), nullable=True))
        batch_op.create_check_constraint(op.f('ck_product_reuse_weight_positive'),
                                         'reuse_weight_grams IS NULL OR reuse_weight_grams > 0')



def downgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_product_reuse_weight_positive'), type_='check')
        batch_op.drop_column('impact_kind')
        batch_op.drop_column('reuse_weight_grams')

    with op.batch_alter_table('page_view_day', schema=None) as batch_op:
        batch_op.drop_index('ix_page_view_day_page')

    op.drop_table('page_view_day')
