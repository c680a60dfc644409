"""Search at scale: p50/p95 of the search page beside the board pages, and the queries a page
costs, on BENCH_POSTS posts (100 000 by default).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/search.py
    .venv/bin/python benchmarks/search.py          # SQLite in a temporary folder (FTS5)

Two cohorts with their boards and the community board; BENCH_POSTS posts in threads of 50,
spread over Cohort In's board, Cohort Out's board (never a result for the reader) and the
community board, written in bulk and indexed with portal.search.index.reindex_all. A trainee of
Cohort In then asks through the Flask test client (in process: the numbers are the page's own
cost, no HTTP server): a common word, a rare word, two words, a word on another cohort's board
only, page 2, newest first; beside them the board page and a thread page. The database named by
DATABASE_URL is wiped first (an empty one, please). A measurement, not a test: it prints
numbers and never fails on them.

On the team machine (PostgreSQL, 100 000 posts, 2026-11-22), p50 / p95 in ms, queries per page:
  board page 7.1 / 9.3 (11), thread page 8.5 / 10.0 (12); search: a common word 9.9 / 11.7,
  page 2 10.4 / 19.3, newest first 22.0 / 32.0, two words 13.7 / 22.3, a frequent word
  17.2 / 27.9, a word only on another cohort's board 36.4 / 56.5 (no hits) -- 4 queries each,
  whatever the number of posts (tests/test_notify.py checks the count does not grow).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTS = int(os.environ.get("BENCH_POSTS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
PER_THREAD = 50
SECRET = "search-benchmark-secret-key-0123456789abcdef"  # noqa: S105
WORDS = [f"w{n:04d}" for n in range(3000)] + ["listening", "recovery", "housing", "boundaries", "hope"]


def build(url: str):
    from portal.boards import posting
    from portal.extensions import db
    from portal.models import Board, Post, Thread, User, utcnow
    from portal.search import index
    from tests.conftest import make_test_app, reset_schema
    from tests.factories import AuthActions, CohortFactory, UserFactory

    app = make_test_app(url, SECRET_KEY=SECRET)
    reset_schema(app)
    make_user = UserFactory(app)
    make_cohort = CohortFactory(app, make_user)
    reader = make_user("reader@example.org", name="Reader In")
    writer_in = make_user("writer.in@example.org", name="Writer In")
    writer_out = make_user("writer.out@example.org", name="Writer Out")
    cohort_in = make_cohort(trainees=[reader, writer_in], name="Cohort In")
    cohort_out = make_cohort(trainees=[writer_out], name="Cohort Out")
    rng = random.Random(13)
    with app.app_context():
        from portal.models import Cohort

        boards = [
            (posting.cohort_board(db.session.get(Cohort, cohort_in.id)).id, writer_in.id),
            (posting.cohort_board(db.session.get(Cohort, cohort_out.id)).id, writer_out.id),
            (posting.community_board().id, writer_in.id),
        ]
        db.session.commit()
        start = utcnow() - timedelta(days=365)
        threads = []
        for n in range(max(POSTS // PER_THREAD, 1)):
            board_id, author_id = boards[n % 3]
            threads.append(
                {
                    "board_id": board_id,
                    "author_id": author_id,
                    "title": f"Thread {n} about " + " ".join(rng.sample(WORDS, 3)),
                    "created_at": start,
                    "last_post_at": start,
                }
            )
        db.session.execute(db.insert(Thread), threads)
        rows = db.session.execute(db.select(Thread.id, Thread.board_id, Thread.author_id)).all()
        batch = []
        for n in range(POSTS):
            thread = rows[n // PER_THREAD % len(rows)]
            words = rng.sample(WORDS, 14)
            if thread.board_id == boards[1][0] and n % 7 == 0:
                words.append("outsideronly")
            body = " ".join(words)
            batch.append(
                {
                    "thread_id": thread.id,
                    "board_id": thread.board_id,
                    "author_id": thread.author_id,
                    "body": body,
                    "body_html": f"<p>{body}</p>",
                    "created_at": start + timedelta(seconds=n),
                }
            )
            if len(batch) == 5000:
                db.session.execute(db.insert(Post), batch)
                batch = []
        if batch:
            db.session.execute(db.insert(Post), batch)
        db.session.commit()
        began = time.perf_counter()
        count = index.reindex_all()
        db.session.commit()
        print(f"indexed {count} posts in {time.perf_counter() - began:.1f}s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")  # statistics, as autovacuum would gather them
        board_in = boards[0][0]
        thread_in = db.session.execute(
            db.select(Thread.id).where(Thread.board_id == board_in).order_by(Thread.id.desc()).limit(1)
        ).scalar_one()
        posting.accept(db.session.get(User, reader.id))
        db.session.commit()
        del Board
    client = app.test_client()
    AuthActions(client, app).login_as(reader)
    return app, client, board_in, thread_in


def measure(client, url: str) -> tuple[float, float, int]:
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else times[-1]
    return statistics.median(times), p95, response.get_data(as_text=True).count('class="snippet"')


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/search-bench.sqlite3"
    app, client, board_in, thread_in = build(url)
    from tests.factories import count_queries

    pages = [
        ("board page", f"/boards/{board_in}"),
        ("thread page", f"/threads/{thread_in}"),
        ("search: common word", "/search?q=w0042"),
        ("search: common word, page 2", "/search?q=w0042&page=2"),
        ("search: common word, newest", "/search?q=w0042&sort=new"),
        ("search: two words", "/search?q=w0042+w0107"),
        ("search: frequent word", "/search?q=listening"),
        ("search: another cohort's word", "/search?q=outsideronly"),
    ]
    engine = url.split(":", 1)[0]
    print(f"{POSTS} posts, {engine}, {ROUNDS} requests each (in process)")
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'hits':>5}")
    for name, path in pages:
        with count_queries(app) as statements:
            client.get(path)
        p50, p95, hits = measure(client, path)
        print(f"{name:34} {p50:8.1f} {p95:8.1f} {len(statements):8d} {hits if 'search' in name else '':>5}")


if __name__ == "__main__":
    main()
