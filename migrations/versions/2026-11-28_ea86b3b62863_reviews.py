"""Country reviews: States, drawing of lots, participants, phases, reminders.

Revision ID: ea86b3b62863
Revises: 680d09186a84
Create Date: 2026-11-28 22:56:14.102872

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'ea86b3b62863'
down_revision = '680d09186a84'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('lot_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('inputs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lot_draws_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_draws'))
    )
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=40), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'self_assessment', 'desk_review', 'dialogue', 'observations', 'final', name='phase', native_enum=False, length=30), nullable=False),
    sa.Column('self_assessment_months', sa.Integer(), nullable=False),
    sa.Column('desk_review_months', sa.Integer(), nullable=False),
    sa.Column('self_assessment_due_on', sa.Date(), nullable=True),
    sa.Column('desk_review_due_on', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('required_answered', sa.Integer(), nullable=False),
    sa.Column('required_total', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_reviews_opened_by_id_users')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_reviews_questionnaire_id_questionnaires')),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_reviews_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('state_id', 'questionnaire_id', 'cycle', name='uq_reviews_state_cycle')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_cycle'), ['cycle'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_phase'), ['phase'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_questionnaire_id'), ['questionnaire_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_state_id'), ['state_id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('focal_point', 'expert', 'contributor', 'observer', name='role', native_enum=False, length=30), nullable=False),
    sa.Column('sections', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_participants_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_participants_state_id_states')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participants_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participants_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_participants_focal_point', ['review_id', 'state_id'], unique=True, sqlite_where=sa.text("role = 'focal_point' AND ended_at IS NULL"), postgresql_where=sa.text("role = 'focal_point' AND ended_at IS NULL"))

    op.create_table('phase_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'self_assessment', 'desk_review', 'dialogue', 'observations', 'final', name='phase', native_enum=False, length=30), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_phase_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_phase_changes_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phase_changes'))
    )
    with op.batch_alter_table('phase_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phase_changes_review_id'), ['review_id'], unique=False)

    op.create_table('reminders_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.String(length=30), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_reminders_sent_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('review_id', 'deadline', 'due_on', 'days_before', name='uq_reminders_sent_once')
    )
    op.create_table('review_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('under_review', 'reviewing', name='staterole', native_enum=False, length=30), nullable=False),
    sa.Column('slot', sa.Enum('same_group', 'other_group', name='slot', native_enum=False, length=30), nullable=True),
    sa.Column('draw_id', sa.Integer(), nullable=True),
    sa.Column('redraws_used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['lot_draws.id'], name=op.f('fk_review_states_draw_id_lot_draws')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_states_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['states.id'], name=op.f('fk_review_states_state_id_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_states')),
    sa.UniqueConstraint('review_id', 'slot', name='uq_review_states_slot'),
    sa.UniqueConstraint('review_id', 'state_id', name='uq_review_states_state')
    )
    with op.batch_alter_table('review_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_states_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_states_state_id'), ['state_id'], unique=False)




def downgrade():

    with op.batch_alter_table('review_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_states_state_id'))
        batch_op.drop_index(batch_op.f('ix_review_states_review_id'))

    op.drop_table('review_states')
    op.drop_table('reminders_sent')
    with op.batch_alter_table('phase_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phase_changes_review_id'))

    op.drop_table('phase_changes')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('uq_participants_focal_point', sqlite_where=sa.text("role = 'focal_point' AND ended_at IS NULL"), postgresql_where=sa.text("role = 'focal_point' AND ended_at IS NULL"))
        batch_op.drop_index(batch_op.f('ix_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_participants_review_id'))

    op.drop_table('participants')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_state_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_questionnaire_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_phase'))
        batch_op.drop_index(batch_op.f('ix_reviews_cycle'))

    op.drop_table('reviews')
    op.drop_table('lot_draws')

