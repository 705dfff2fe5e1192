"""The basis of a question: a treaty obligation (article) or a recommendation of the resolution (paragraph).

Versions stored before have no basis (NULL) and keep none.

Revision ID: 7d6748b2d569
Revises: e1c46046c041
Create Date: 2026-12-01 21:47:37.781516

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '7d6748b2d569'
down_revision = 'e1c46046c041'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'basis', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('basis')
