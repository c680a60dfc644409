"""board topics: admin-managed topic categories, threads filed under a topic; a thread whose
opening post is hidden; the idempotency key of a post's form

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 00:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('board_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_board_topics_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_topics')),
    sa.UniqueConstraint('board_id', 'name', name=op.f('uq_board_topics_board_id_name'))
    )
    with op.batch_alter_table('board_threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_shown', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_board_threads_topic_id_board_topics'), 'board_topics', ['topic_id'], ['id'])
        batch_op.create_index('ix_board_threads_topic_listing', ['topic_id', 'pinned', 'last_post_id'], unique=False)
    with op.batch_alter_table('board_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_board_posts_author_id_client_key'), ['author_id', 'client_key'])
    # Threads whose opening post is hidden or waits, and reply counts of what everyone sees.
    op.execute(
        "UPDATE board_threads SET opening_shown = NOT EXISTS (SELECT 1 FROM board_posts p WHERE p.id = "
        "(SELECT MIN(q.id) FROM board_posts q WHERE q.thread_id = board_threads.id) "
        "AND (p.hidden_at IS NOT NULL OR p.pending))"
    )
    op.execute(
        "UPDATE board_threads SET reply_count = (SELECT COUNT(*) FROM board_posts p WHERE p.thread_id = "
        "board_threads.id AND p.hidden_at IS NULL AND NOT p.pending AND p.id > "
        "(SELECT MIN(q.id) FROM board_posts q WHERE q.thread_id = board_threads.id))"
    )


def downgrade():
    with op.batch_alter_table('board_posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_board_posts_author_id_client_key'), type_='unique')
        batch_op.drop_column('client_key')
    with op.batch_alter_table('board_threads', schema=None) as batch_op:
        batch_op.drop_index('ix_board_threads_topic_listing')
        batch_op.drop_constraint(batch_op.f('fk_board_threads_topic_id_board_topics'), type_='foreignkey')
        batch_op.drop_column('topic_id')
        batch_op.drop_column('opening_shown')
    op.drop_table('board_topics')
