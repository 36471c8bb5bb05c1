"""Consents to hear from a seller (given at checkout, with the exact wording), the sellers'
messages to their opted-in customers, and each message's recipients

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-04 15:32:36
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('marketing_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('order_reference', sa.String(length=20), nullable=True),
    sa.Column('given_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_how', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_marketing_consent_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_marketing_consent_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_consent'))
    )
    with op.batch_alter_table('marketing_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_marketing_consent_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_marketing_consent_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_marketing_consent_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_marketing_consent_active', ['organization_id', 'email'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('seller_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=150), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recipients_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_seller_message_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_seller_message_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_message'))
    )
    with op.batch_alter_table('seller_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seller_message_organization_id'), ['organization_id'], unique=False)

    op.create_table('seller_message_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('skipped_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['marketing_consent.id'], name=op.f('fk_seller_message_recipient_consent_id_marketing_consent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['seller_message.id'], name=op.f('fk_seller_message_recipient_message_id_seller_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_message_recipient')),
    sa.UniqueConstraint('message_id', 'consent_id', name=op.f('uq_seller_message_recipient_message_id_consent_id'))
    )
    with op.batch_alter_table('seller_message_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seller_message_recipient_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seller_message_recipient_message_id'), ['message_id'], unique=False)



def downgrade():
    with op.batch_alter_table('seller_message_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seller_message_recipient_message_id'))
        batch_op.drop_index(batch_op.f('ix_seller_message_recipient_consent_id'))

    op.drop_table('seller_message_recipient')
    with op.batch_alter_table('seller_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seller_message_organization_id'))

    op.drop_table('seller_message')
    with op.batch_alter_table('marketing_consent', schema=None) as batch_op:
        batch_op.drop_index('uq_marketing_consent_active', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_marketing_consent_user_id'))
        batch_op.drop_index(batch_op.f('ix_marketing_consent_organization_id'))
        batch_op.drop_index(batch_op.f('ix_marketing_consent_email'))

    op.drop_table('marketing_consent')
