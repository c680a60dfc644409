"""cohorts ux: dashboard notices, the place of a pair in its cohort's list, sharing contact details

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-21 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_notices_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_notices_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('dyads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sa.Integer(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shares_contact', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('shares_contact')

    with op.batch_alter_table('dyads', schema=None) as batch_op:
        batch_op.drop_column('place')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_user_created')
        batch_op.drop_index(batch_op.f('ix_notices_cohort_id'))

    op.drop_table('notices')
