"""Logins kept on the server (user_session); user.session_token goes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:21:53

A login was a signed cookie holding the user id and a per-user token: logging out only cleared
the browser's copy, so a cookie saved before still opened the account. Each login is now a row
of user_session named by a random key (only its SHA-256 is stored); logging out deletes it. The
per-user token is no longer used: everyone logs in again once after this upgrade.
"""
import secrets

from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remembered', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('browser', sa.String(length=40), server_default='', nullable=False),
    sa.Column('system', sa.String(length=40), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+), without a batch copy of the user table.
        op.execute('ALTER TABLE "user" DROP COLUMN session_token')
    else:
        op.drop_column('user', 'session_token')


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.VARCHAR(length=32), nullable=True))
    users = sa.table('user', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(16)))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.VARCHAR(length=32), nullable=False)

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
