"""security: one open supervision per trainee, enforced by the database

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Close all but the newest open supervision of a trainee before the index can hold.
    op.execute(
        "UPDATE supervisions SET ended_at = started_at WHERE ended_at IS NULL AND id NOT IN "
        "(SELECT max(id) FROM supervisions WHERE ended_at IS NULL GROUP BY trainee_id)"
    )
    with op.batch_alter_table('supervisions', schema=None) as batch_op:
        batch_op.create_index(
            'uq_supervisions_open_trainee',
            ['trainee_id'],
            unique=True,
            sqlite_where=sa.text('ended_at IS NULL'),
            postgresql_where=sa.text('ended_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('supervisions', schema=None) as batch_op:
        batch_op.drop_index('uq_supervisions_open_trainee')
