"""audit log: the cohort of each event (for filtering) and its origin (the demo seed)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 01:00:00

"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_audit_cohort_at', ['cohort_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_actor_at', ['actor_id', 'at'], unique=False)
    # Events already written: their cohort, from the subject or the details.
    bind = op.get_bind()
    events = sa.table(
        'audit_events', sa.column('id', sa.Integer), sa.column('subject_type', sa.String),
        sa.column('subject_id', sa.Integer), sa.column('details', sa.JSON), sa.column('cohort_id', sa.Integer),
    )
    rows = bind.execute(sa.select(events.c.id, events.c.subject_type, events.c.subject_id, events.c.details)).all()
    for row in rows:
        details = row.details if isinstance(row.details, dict) else json.loads(row.details or '{}')
        cohort_id = row.subject_id if row.subject_type == 'cohorts' else details.get('cohort_id')
        if isinstance(cohort_id, int):
            bind.execute(events.update().where(events.c.id == row.id).values(cohort_id=cohort_id))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_actor_at')
        batch_op.drop_index('ix_audit_cohort_at')
        batch_op.drop_column('origin')
        batch_op.drop_column('cohort_id')
