"""A person's time zone (IANA name), taken from the browser at sign-in, changed in the profile.

Revision ID: 6185fbd55979
Revises: 7d6748b2d569
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

revision = '6185fbd55979'
down_revision = '7d6748b2d569'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
