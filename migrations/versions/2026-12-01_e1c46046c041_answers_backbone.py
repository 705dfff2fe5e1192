"""Answers backbone: refused values kept, releases in the dialogue, session of a revision, removed files kept.

Revision ID: e1c46046c041
Revises: 74644f071916
Create Date: 2026-12-01 21:32:50.436841

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e1c46046c041'
down_revision = '74644f071916'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('answer_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('answer_version', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_answer_releases_question_id_questions')),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_answer_releases_released_by_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_answer_releases_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_releases'))
    )
    with op.batch_alter_table('answer_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_releases_review_id'), ['review_id'], unique=False)

    op.create_table('refused_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_refused_values_author_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_refused_values_question_id_questions')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_refused_values_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_values'))
    )
    with op.batch_alter_table('refused_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refused_values_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('answer_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=64), nullable=True))

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('removed_at')

    with op.batch_alter_table('answer_revisions', schema=None) as batch_op:
        batch_op.drop_column('session_key')

    with op.batch_alter_table('refused_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refused_values_review_id'))

    op.drop_table('refused_values')
    with op.batch_alter_table('answer_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_releases_review_id'))

    op.drop_table('answer_releases')
