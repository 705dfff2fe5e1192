"""Sign-in sessions kept on the server (replacing the per-person session token), and forms kept across sign-in.

Revision ID: 64b752c6aba5
Revises: 6185fbd55979
Create Date: 2026-12-01 21:42:06.994108

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '64b752c6aba5'
down_revision = '6185fbd55979'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Enum('signed_out', 'idle', 'expired', 'password_changed', 'deactivated', name='sessionend', native_enum=False, length=20), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_sign_in_sessions_key_hash'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('kept_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kept_forms_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_forms')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_kept_forms_key_hash'))
    )
    with op.batch_alter_table('kept_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_forms_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_forms_user_id'), ['user_id'], unique=False)

    # Cookies made before this revision carry the old token and no session key: they sign no one in.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE users SET session_token = md5(random()::text)")
    else:
        op.execute("UPDATE users SET session_token = lower(hex(randomblob(24)))")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('kept_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_forms_user_id'))
        batch_op.drop_index(batch_op.f('ix_kept_forms_expires_at'))
    op.drop_table('kept_forms')

    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))
    op.drop_table('sign_in_sessions')
