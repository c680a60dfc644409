"""exams: item bank, offerings, attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 22:27:19.927678

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('exam_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('competency', sa.Integer(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name=op.f('ck_exam_items_status_known')),
    sa.CheckConstraint('competency BETWEEN 1 AND 10', name=op.f('ck_exam_items_competency_range')),
    sa.CheckConstraint('week BETWEEN 1 AND 6', name=op.f('ck_exam_items_week_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_items')),
    sa.UniqueConstraint('id_number', name=op.f('uq_exam_items_id_number'))
    )
    with op.batch_alter_table('exam_items', schema=None) as batch_op:
        batch_op.create_index('ix_exam_items_status_week', ['status', 'week'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_items_title'), ['title'], unique=False)

    op.create_table('exam_item_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('competency', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exam_item_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['exam_items.id'], name=op.f('fk_exam_item_versions_item_id_exam_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_item_versions')),
    sa.UniqueConstraint('item_id', 'number', name=op.f('uq_exam_item_versions_item_id_number'))
    )
    with op.batch_alter_table('exam_item_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_item_versions_item_id'), ['item_id'], unique=False)

    op.create_table('exam_offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('time_limit_minutes', sa.Integer(), nullable=True),
    sa.Column('attempts_allowed', sa.Integer(), nullable=False),
    sa.Column('wait_hours', sa.Integer(), nullable=False),
    sa.Column('blueprint', sa.JSON(), nullable=False),
    sa.Column('required_competencies', sa.JSON(), nullable=False),
    sa.Column('review_at_once', sa.Boolean(), nullable=False),
    sa.Column('pass_percent', sa.Integer(), nullable=False),
    sa.Column('closed_early_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('attempts_allowed >= 1', name=op.f('ck_exam_offerings_attempts_positive')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_exam_offerings_window_order')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_exam_offerings_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exam_offerings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_offerings'))
    )
    with op.batch_alter_table('exam_offerings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_offerings_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('exam_attempt_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_exam_attempt_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['offering_id'], ['exam_offerings.id'], name=op.f('fk_exam_attempt_grants_offering_id_exam_offerings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exam_attempt_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_attempt_grants'))
    )
    with op.batch_alter_table('exam_attempt_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_attempt_grants_offering_id'), ['offering_id'], unique=False)

    op.create_table('exam_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by', sa.String(length=20), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('one_at_a_time', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'submitted')", name=op.f('ck_exam_attempts_status_known')),
    sa.ForeignKeyConstraint(['offering_id'], ['exam_offerings.id'], name=op.f('fk_exam_attempts_offering_id_exam_offerings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exam_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_attempts')),
    sa.UniqueConstraint('offering_id', 'user_id', 'number', name=op.f('uq_exam_attempts_offering_id_user_id_number'))
    )
    with op.batch_alter_table('exam_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_attempts_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index('ix_exam_attempts_open_deadline', ['status', 'deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_attempts_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_exam_attempts_one_open', ['user_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('exam_extra_time',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_exam_extra_time_minutes_positive')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_exam_extra_time_granted_by_id_users')),
    sa.ForeignKeyConstraint(['offering_id'], ['exam_offerings.id'], name=op.f('fk_exam_extra_time_offering_id_exam_offerings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exam_extra_time_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_extra_time')),
    sa.UniqueConstraint('offering_id', 'user_id', name=op.f('uq_exam_extra_time_offering_id_user_id'))
    )
    op.create_table('exam_attempt_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_version_id', sa.Integer(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('chosen', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['exam_attempts.id'], name=op.f('fk_exam_attempt_items_attempt_id_exam_attempts')),
    sa.ForeignKeyConstraint(['item_version_id'], ['exam_item_versions.id'], name=op.f('fk_exam_attempt_items_item_version_id_exam_item_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_attempt_items')),
    sa.UniqueConstraint('attempt_id', 'item_version_id', name=op.f('uq_exam_attempt_items_attempt_id_item_version_id')),
    sa.UniqueConstraint('attempt_id', 'position', name=op.f('uq_exam_attempt_items_attempt_id_position'))
    )
    with op.batch_alter_table('exam_attempt_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_attempt_items_item_version_id'), ['item_version_id'], unique=False)




def downgrade():

    with op.batch_alter_table('exam_attempt_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_attempt_items_item_version_id'))

    op.drop_table('exam_attempt_items')
    op.drop_table('exam_extra_time')
    with op.batch_alter_table('exam_attempts', schema=None) as batch_op:
        batch_op.drop_index('uq_exam_attempts_one_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_exam_attempts_user_id'))
        batch_op.drop_index('ix_exam_attempts_open_deadline')
        batch_op.drop_index(batch_op.f('ix_exam_attempts_offering_id'))

    op.drop_table('exam_attempts')
    with op.batch_alter_table('exam_attempt_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_attempt_grants_offering_id'))

    op.drop_table('exam_attempt_grants')
    with op.batch_alter_table('exam_offerings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_offerings_cohort_id'))

    op.drop_table('exam_offerings')
    with op.batch_alter_table('exam_item_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_item_versions_item_id'))

    op.drop_table('exam_item_versions')
    with op.batch_alter_table('exam_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_items_title'))
        batch_op.drop_index('ix_exam_items_status_week')

    op.drop_table('exam_items')

