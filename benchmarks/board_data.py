"""A data generator for the boards: threads and posts on one board, fast.

    generate(board_id, author_ids, posts=100_000, threads=2_000)

On PostgreSQL the posts go in with COPY (100 000 posts in a few seconds); elsewhere with
executemany in chunks. Threads get their latest-activity id, time and reply count from the
posts, as posting.py keeps them, and the tables are analysed, so the planner sees their real
size. One thread (the first, "the long thread") holds `long_share` of the posts; the others
share the rest in turn. Runs inside an app context; commits.

Used by benchmarks/boards.py and tests/test_boards.py (the statement counts at 100 000 posts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from portal.extensions import db
from portal.models import Post, Thread, utcnow

COLUMNS = ("thread_id", "board_id", "author_id", "body", "body_html", "created_at", "pending")
CHUNK = 10_000


@dataclass
class Generated:
    thread_ids: list[int]
    long_thread_id: int
    posts: int


def _rows(board_id: int, author_ids: list[int], thread_ids: list[int], posts: int, long_share: float):
    start = utcnow() - timedelta(seconds=posts)
    every = max(1, round(1 / long_share)) if long_share else 0
    others = thread_ids[1:] or thread_ids
    for n in range(posts):
        if n < len(thread_ids):  # every thread opens with a post
            thread = thread_ids[n]
        elif every and n % every == 0:
            thread = thread_ids[0]
        else:
            thread = others[n % len(others)]
        body = f"Generated post {n}: what week {n % 12 + 1} taught me about listening, and a question."
        yield (
            thread,
            board_id,
            author_ids[n % len(author_ids)],
            body,
            f"<p>{body}</p>",
            start + timedelta(seconds=n),
            False,
        )


def generate(
    board_id: int,
    author_ids: list[int],
    posts: int = 100_000,
    threads: int = 2_000,
    long_share: float = 0.1,
    title: str = "Generated thread",
) -> Generated:
    threads = max(1, min(threads, posts))
    now = utcnow()
    db.session.execute(
        Thread.__table__.insert(),
        [
            {
                "board_id": board_id,
                "title": f"{title} {n}",
                "author_id": author_ids[n % len(author_ids)],
                "created_at": now,
                "last_post_id": 0,
                "last_post_at": now,
                "reply_count": 0,
                "pinned": False,
                "opening_shown": True,
            }
            for n in range(threads)
        ],
    )
    thread_ids = list(
        db.session.execute(
            db.select(Thread.id)
            .where(Thread.board_id == board_id, Thread.last_post_id == 0, Thread.title.like(f"{title} %"))
            .order_by(Thread.id)
        ).scalars()
    )
    rows = _rows(board_id, author_ids, thread_ids, posts, long_share)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection  # psycopg 3, in the session's transaction
        with raw.cursor() as cursor, cursor.copy(f"COPY board_posts ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        chunk = []
        for row in rows:
            chunk.append(dict(zip(COLUMNS, row, strict=True)))
            if len(chunk) == CHUNK:
                db.session.execute(Post.__table__.insert(), chunk)
                chunk = []
        if chunk:
            db.session.execute(Post.__table__.insert(), chunk)
    # Latest activity and replies of each new thread, from its posts.
    db.session.execute(
        text(
            "UPDATE board_threads SET "
            "last_post_id = (SELECT MAX(p.id) FROM board_posts p WHERE p.thread_id = board_threads.id), "
            "last_post_at = (SELECT MAX(p.created_at) FROM board_posts p WHERE p.thread_id = board_threads.id), "
            "reply_count = (SELECT COUNT(*) FROM board_posts p WHERE p.thread_id = board_threads.id) - 1 "
            "WHERE board_id = :board AND last_post_id = 0"
        ),
        {"board": board_id},
    )
    db.session.commit()
    if connection.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE board_posts"))
            conn.execute(text("ANALYZE board_threads"))
            conn.commit()
    return Generated(thread_ids, thread_ids[0], posts)
