"""Attendance under load, beside the trivial route (/healthz) on the same gunicorn server.

    make bench                       # runs benchmarks/run.py, then this
    .venv/bin/python benchmarks/attendance.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/attendance.py

1. The check-in burst: 200 signed-in trainees post the code to one live session at the same
   moment (one thread each): total time, p50 and p95, beside 200 simultaneous /healthz.
   Target: under 2 s on two cores.
2. The idle roll poll: the facilitator's roll asking "changed since v?" and getting 204.
   Target: at least 0.6x the throughput of /healthz.
3. A check-in POST (a trainee already checked in posting again: the whole path, validation,
   code check and the insert that does nothing). Target: at least 0.3x /healthz.

A measurement, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.server import Browser, gunicorn, signed_in_headers  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
SECRET = "benchmark-secret-key-" + "x" * 32
BURST = 200


def build(url: str):
    """200 trainees in a cohort whose week 1 is live with check-in open; signed cookies and
    CSRF tokens for each, and one for the facilitator (made here, no password hashing)."""
    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET)
    from datetime import date
    from datetime import time as clock

    from flask_migrate import upgrade

    from portal import create_app
    from portal.attendance import roll
    from portal.cohorts import roster
    from portal.cohorts.manage import create_cohort
    from portal.extensions import db
    from portal.models import CohortStatus, Role, User, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        now = utcnow()
        fac = User(email=f"bench.fac.{now.timestamp()}@example.org", display_name="Bench Facilitator", activated_at=now)
        fac.set_roles({Role.FACILITATOR})
        db.session.add(fac)
        db.session.flush()
        cohort = create_cohort(
            name="Bench",
            facilitators=[fac],
            first_day=date(2027, 1, 4),
            start=clock(18),
            time_zone="UTC",
            meeting_url=None,
            capacity=BURST,
            notes=None,
            status=CohortStatus.ENROLLING,
            by=fac,
        )
        people = []
        for n in range(BURST + 1):
            u = User(email=f"bench{n}.{now.timestamp()}@example.org", display_name=f"Bench {n}", activated_at=now)
            u.set_roles({Role.TRAINEE})
            db.session.add(u)
            db.session.flush()
            roster.add_trainee(cohort.id, u, fac)
            people.append(u)
        session = cohort.sessions[0]
        session.starts_at = now - timedelta(minutes=2)
        roll.open_checkin(session, fac)

        def cookie_for(user):
            return signed_in_headers(app, user.id)

        trainees = [cookie_for(u) for u in people]
        facilitator = cookie_for(fac)
        db.session.commit()
        return app, session.id, trainees, facilitator


def stats(timings):
    timings = sorted(timings)
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))] * 1000  # noqa: E731
    return p(0.5), p(0.95)


def burst(base, requests):
    """Every request at once, one thread each: (wall seconds, p50 ms, p95 ms, statuses)."""
    barrier = threading.Barrier(len(requests))
    timings, statuses = [], []
    lock = threading.Lock()

    def go(method, path, headers, data):
        client = Browser(base)
        barrier.wait()
        t0 = time.perf_counter()
        status, _, _ = client.request(method, path, data, headers)
        with lock:
            timings.append(time.perf_counter() - t0)
            statuses.append(status)

    threads = [threading.Thread(target=go, args=r) for r in requests]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return (wall, *stats(timings), statuses)


def steady(base, method, path, headers, data=None):
    """REQUESTS requests over THREADS threads: (req/s, p50 ms, p95 ms, statuses)."""
    timings, statuses = [], []
    lock = threading.Lock()

    def run():
        client = Browser(base)
        for _ in range(max(1, REQUESTS // THREADS)):
            t0 = time.perf_counter()
            status, _, _ = client.request(method, path, data, headers)
            with lock:
                timings.append(time.perf_counter() - t0)
                statuses.append(status)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return (len(timings) / wall, *stats(timings), statuses)


def main():
    from collections import Counter

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        os.environ["PORTAL_INSTANCE_PATH"] = tmp
        app, sid, trainees, facilitator = build(url)
        print(
            f"database: {url.split('@')[-1]}  gunicorn workers: {WORKERS}  steady load: {REQUESTS} requests, "
            f"{THREADS} threads"
        )
        with gunicorn(url, SECRET, workers=WORKERS, extra_env={"PORTAL_INSTANCE_PATH": tmp}) as base:
            from portal.attendance import codes, roll
            from portal.extensions import db
            from portal.models import CohortSession, utcnow

            warm = Browser(base)
            for _ in range(4 * WORKERS):  # compile templates in every worker before the clock runs
                warm.request("GET", f"/sessions/{sid}/roll", None, facilitator)
                warm.request("GET", "/healthz")
            if codes.seconds_left(utcnow()) < 10:
                time.sleep(codes.seconds_left(utcnow()) + 0.5)
            with app.app_context():
                code = roll.current_code(db.session.get(CohortSession, sid))
            hz = burst(base, [("GET", "/healthz", {}, None)] * BURST)
            checkin = burst(
                base,
                [
                    ("POST", f"/sessions/{sid}/checkin", {**h, "HX-Request": "true"}, {"code": code})
                    for h in trainees[:BURST]
                ],
            )
            print(f"\n1. check-in burst: {BURST} at once")
            print(f"   {'':<28} {'total s':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses")
            print(f"   {'/healthz x200':<28} {hz[0]:8.2f} {hz[1]:8.1f} {hz[2]:8.1f}  {dict(Counter(hz[3]))}")
            print(
                f"   {'POST check-in x200':<28} {checkin[0]:8.2f} {checkin[1]:8.1f} {checkin[2]:8.1f}  "
                f"{dict(Counter(checkin[3]))}   ratio of totals {hz[0] / checkin[0]:.2f}x  (target: under 2 s)"
            )
            with app.app_context():
                version = roll.version(sid)

            print(
                f"\n2. steady load   {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}   {'/healthz req/s':>14}   ratio  target"
            )
            rows = [
                (
                    "idle roll poll (204)",
                    "GET",
                    f"/sessions/{sid}/roll?v={version}",
                    {**facilitator, "HX-Request": "true"},
                    None,
                    0.6,
                ),
                (
                    "check-in POST (again)",
                    "POST",
                    f"/sessions/{sid}/checkin",
                    {**trainees[0], "HX-Request": "true"},
                    None,
                    0.3,
                ),
            ]
            for label, method, path, headers, _, target in rows:
                healthz = steady(base, "GET", "/healthz", {})
                if method == "POST":
                    with app.app_context():
                        code = roll.current_code(db.session.get(CohortSession, sid))
                result = steady(base, method, path, headers, {"code": code} if method == "POST" else None)
                ratio = result[0] / healthz[0] if healthz[0] else 0
                print(
                    f"   {label:<24} {result[0]:8.1f} {result[1]:8.1f} {result[2]:8.1f}   {healthz[0]:14.1f}   "
                    f"{ratio:5.2f}x  >= {target}x   statuses {dict(Counter(result[3]))}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
