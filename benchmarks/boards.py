"""The boards at 1 000 and at 100 000 posts, side by side, on one gunicorn server.

    make bench                       # runs benchmarks/run.py, attendance.py, exams.py, then this
    .venv/bin/python benchmarks/boards.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/boards.py

Two cohort boards in one database, filled by benchmarks/board_data.py: a small one (1 000
posts in 20 threads) and a large one (100 000 posts in 2 000 threads); on each, one long thread
holds a tenth of the posts. One trainee, enrolled in both cohorts, reads:

1. the thread list (first page, and a page further down by keyset), the long thread's first
   page and a page near its end: p50 and p95 at 1 000 and at 100 000 posts, and the ratio of
   the p95s. Target: p95 at 100 000 at most 1.5x the p95 at 1 000.
2. the idle new-reply poll (nothing new: 204) on the large board, with the ticket the thread
   page gives it (two statements: the session, the thread's version), beside the trivial
   route (/healthz), measured just before it on the same server. Target: at least 0.6x its
   throughput. Most of what the poll costs beyond /healthz is signing the person in (the
   session row and its roles, as on every signed-in request).

BENCH_POSTS changes the large board's size (100000 by default). A measurement, not a test:
it prints numbers and never fails on them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from attendance import REQUESTS, THREADS, WORKERS, steady  # noqa: E402
from board_data import generate  # noqa: E402

from tests.server import Browser, gunicorn, signed_in_headers  # noqa: E402

SECRET = "benchmark-secret-key-" + "x" * 32
SMALL = 1_000
LARGE = int(os.environ.get("BENCH_POSTS", "100000"))
HTMX = {"HX-Request": "true"}


def build(url: str):
    """Two cohorts with their boards, one trainee in both (a session cookie made here), the
    boards filled. Returns the app, the cookie headers and, per board, the paths to measure."""
    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET)
    from flask_migrate import upgrade

    from portal import create_app
    from portal.boards import posting
    from portal.cohorts import roster
    from portal.cohorts.manage import create_cohort
    from portal.extensions import db
    from portal.models import CohortStatus, Post, Role, User, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        now = utcnow()
        stamp = int(now.timestamp())
        fac = User(email=f"bench.boards.fac.{stamp}@example.org", display_name="Bench Facilitator", activated_at=now)
        fac.set_roles({Role.FACILITATOR})
        db.session.add(fac)
        db.session.flush()
        people = []
        for n in range(5):
            u = User(email=f"bench.boards{n}.{stamp}@example.org", display_name=f"Bench Peer {n}", activated_at=now)
            u.set_roles({Role.TRAINEE})
            db.session.add(u)
            people.append(u)
        db.session.flush()
        boards = {}
        for label in ("small", "large"):
            cohort = create_cohort(
                name=f"Bench boards {label} {stamp}",
                facilitators=[fac],
                first_day=date(2027, 1, 4),
                start=clock(18),
                time_zone="UTC",
                meeting_url=None,
                capacity=20,
                notes=None,
                status=CohortStatus.ENROLLING,
                by=fac,
            )
            for u in people:
                roster.add_trainee(cohort.id, u, fac)
            boards[label] = posting.cohort_board(cohort).id
        for u in people:
            posting.accept(u)
        reader = people[0]
        cookie = signed_in_headers(app, reader.id)
        db.session.commit()
        authors = [u.id for u in people]

        def ticket(thread_id):
            from portal.boards.pages import poll_ticket

            with app.test_request_context():
                return poll_ticket(reader.id, thread_id)

        paths = {}
        for label, posts, threads in (("small", SMALL, 20), ("large", LARGE, max(20, LARGE // 50))):
            started = time.perf_counter()
            made = generate(boards[label], authors, posts=posts, threads=threads)
            print(
                f"generated {posts:>7} posts in {threads:>5} threads on the {label} board "
                f"in {time.perf_counter() - started:5.1f} s",
                flush=True,
            )
            ids = list(
                db.session.execute(
                    db.select(Post.id).where(Post.thread_id == made.long_thread_id).order_by(Post.id.desc()).limit(30)
                ).scalars()
            )
            from portal.models import Thread

            listing = list(
                db.session.execute(
                    db.select(Thread.last_post_id)
                    .where(Thread.board_id == boards[label])
                    .order_by(Thread.last_post_id.desc())
                    .limit(1)
                    .offset(10)
                ).scalars()
            )
            paths[label] = {
                "thread list": f"/boards/{boards[label]}",
                "thread list, next page": f"/boards/{boards[label]}?before={listing[0]}",
                "long thread": f"/threads/{made.long_thread_id}",
                "long thread, near the end": f"/threads/{made.long_thread_id}?after={ids[-1]}",
                # with the ticket the thread page gives its poll (portal.boards.pages.poll_ticket)
                "poll": f"/threads/{made.long_thread_id}/new-replies?seen={ids[0]}&t={ticket(made.long_thread_id)}",
            }
        return app, cookie, paths


def main():
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        os.environ["PORTAL_INSTANCE_PATH"] = tmp
        app, cookie, paths = build(url)
        print(
            f"database: {url.split('@')[-1]}  gunicorn workers: {WORKERS}  load: {REQUESTS} requests per "
            f"page over {THREADS} threads"
        )
        with gunicorn(url, SECRET, workers=WORKERS, extra_env={"PORTAL_INSTANCE_PATH": tmp}) as base:
            warm = Browser(base)
            for label in paths:
                for name, path in paths[label].items():
                    for _ in range(2 * WORKERS):  # templates compiled in every worker first
                        status, _, _ = warm.request("GET", path, None, {**cookie, **(HTMX if name == "poll" else {})})
                        assert status in (200, 204), f"{path}: {status}"
                warm.request("GET", "/healthz")

            print(
                f"\n1. pages        {'1 000 posts':>20}   {f'{LARGE:,} posts'.replace(',', ' '):>20}   p95 ratio  target"
            )
            print(f"   {'':<26} {'p50 ms':>9} {'p95 ms':>9}   {'p50 ms':>9} {'p95 ms':>9}")
            for name in ("thread list", "thread list, next page", "long thread", "long thread, near the end"):
                small = steady(base, "GET", paths["small"][name], cookie)
                large = steady(base, "GET", paths["large"][name], cookie)
                ratio = large[2] / small[2] if small[2] else 0.0
                statuses = dict(Counter(small[3] + large[3]))
                print(
                    f"   {name:<26} {small[1]:9.1f} {small[2]:9.1f}   {large[1]:9.1f} {large[2]:9.1f}   "
                    f"{ratio:8.2f}x  <= 1.5x   statuses {statuses}",
                    flush=True,
                )

            print(
                f"\n2. steady load   {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}   {'/healthz req/s':>14}   ratio  target"
            )
            healthz = steady(base, "GET", "/healthz", {})
            poll = steady(base, "GET", paths["large"]["poll"], {**cookie, **HTMX})
            ratio = poll[0] / healthz[0] if healthz[0] else 0.0
            print(
                f"   {'idle new-reply poll (204)':<24} {poll[0]:8.1f} {poll[1]:8.1f} {poll[2]:8.1f}   "
                f"{healthz[0]:14.1f}   {ratio:5.2f}x  >= 0.6x   statuses {dict(Counter(poll[3]))}",
                flush=True,
            )


if __name__ == "__main__":
    main()
