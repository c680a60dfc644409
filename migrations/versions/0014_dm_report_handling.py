"""direct messages: admins handle reports (resolved, by whom, outcome) and may remove a message

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 04:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dm_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_dm_reports_resolved_by_id_users'), 'users', ['resolved_by_id'], ['id']
        )
    with op.batch_alter_table('dm_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hidden_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_dm_messages_hidden_by_id_users'), 'users', ['hidden_by_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('dm_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dm_messages_hidden_by_id_users'), type_='foreignkey')
        batch_op.drop_column('hidden_by_id')
        batch_op.drop_column('hidden_at')
    with op.batch_alter_table('dm_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dm_reports_resolved_by_id_users'), type_='foreignkey')
        batch_op.drop_column('outcome')
        batch_op.drop_column('resolved_by_id')
        batch_op.drop_column('resolved_at')
