"""The written test under load, beside a trivial route on the same gunicorn server.

    .venv/bin/python benchmarks/exams.py            # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/exams.py

Measures, each beside /healthz on the same server:
  * autosave: BENCH_TRAINEES trainees (100) each saving answers in a loop, over BENCH_THREADS
    threads; throughput ratio to /healthz (target >= 0.3);
  * a synchronized start: every trainee presses Start at the same moment (a barrier); its p95
    beside the p95 of steady navigation (the test page, one question at a time) (target <= 5x);
  * item analysis of 1 000 attempts of 40 items (`analyse`, in process; target < 1 s).
A measurement, not a test: it prints numbers and never fails on them. The database named by
DATABASE_URL is wiped first (an empty one, please).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Browser, gunicorn, signed_in_headers  # noqa: E402

TRAINEES = int(os.environ.get("BENCH_TRAINEES", "100"))
THREADS = int(os.environ.get("BENCH_THREADS", "16"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "800"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SECRET = "exams-benchmark-secret-key-0123456789abcdef"  # noqa: S105


def p95(values):
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def build(url: str):
    """A migrated database with the demo bank, one cohort of TRAINEES and an open test."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.exams.demo import load_bank
    from portal.extensions import db
    from tests.conftest import reset_schema
    from tests.exam_helpers import open_offering
    from tests.factories import CohortFactory, UserFactory

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "JOBS_IMMEDIATE": True})
    reset_schema(app)
    with app.app_context():
        upgrade()
        load_bank()
        db.session.commit()
    make_user = UserFactory(app)
    people = [make_user(f"bench{n:03d}@example.org") for n in range(TRAINEES)]
    cohort = CohortFactory(app, make_user)(trainees=people, capacity=TRAINEES)
    offering_id = open_offering(app, cohort.id, time_limit_minutes=None, attempts_allowed=100, wait_hours=0)
    return app, people, offering_id


def session_for(app, base, user_id):
    from portal.extensions import db

    with app.app_context():
        headers = signed_in_headers(app, user_id)
        db.session.commit()
    return Browser(base), headers


def run(jobs, threads):
    """Run callables over threads; (requests per second, latencies, statuses)."""
    latencies, statuses, lock = [], [], threading.Lock()
    queue = list(jobs)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            started = time.perf_counter()
            status = job()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    begin = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(latencies) / (time.perf_counter() - begin), latencies, statuses


def line(name, rps, lat, base_rps, base_lat, statuses):
    bad = sum(1 for s in statuses if s >= 500)
    print(
        f"{name:<34} {rps:8.0f} req/s  p50 {statistics.median(lat) * 1000:6.1f} ms  p95 {p95(lat) * 1000:6.1f} ms"
        f"   /healthz {base_rps:8.0f} req/s  ratio {rps / base_rps:5.2f}  5xx {bad}"
    )


def main():
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app, people, offering_id = build(url)
    with gunicorn(url, SECRET, workers=WORKERS) as base:
        browsers = {p.id: session_for(app, base, p.id) for p in people}
        probe = Browser(base)

        def healthz():
            return probe.get("/healthz")[0]

        h_rps, h_lat, _ = run([healthz] * REQUESTS, THREADS)

        # A synchronized start of every trainee's attempt.
        barrier = threading.Barrier(len(people))
        start_lat, attempt_of, lock = [], {}, threading.Lock()

        def press_start(person):
            browser, headers = browsers[person.id]
            barrier.wait()
            began = time.perf_counter()
            status, head, _ = browser.request("POST", f"/exams/offerings/{offering_id}/start", {}, headers)
            with lock:
                start_lat.append(time.perf_counter() - began)
                attempt_of[person.id] = head.get("Location", "").rsplit("/", 1)[-1]
            return status

        threads = [threading.Thread(target=press_start, args=(p,)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        # The trivial route under the same burst: as many /healthz at the same moment.
        health_barrier, health_lat = threading.Barrier(len(people)), []

        def press_healthz():
            client = Browser(base)
            health_barrier.wait()
            began = time.perf_counter()
            client.get("/healthz")
            with lock:
                health_lat.append(time.perf_counter() - began)

        threads = [threading.Thread(target=press_healthz) for _ in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not all(a.isdigit() for a in attempt_of.values()):
            status, _, body = browsers[people[0].id][0].request(
                "POST", f"/exams/offerings/{offering_id}/start", {}, browsers[people[0].id][1]
            )
            raise SystemExit(f"the synchronized start did not start every attempt ({status}): {body[:300]}")

        from portal.extensions import db
        from portal.models import AttemptItem

        with app.app_context():
            items = {
                a: [
                    row.id
                    for row in db.session.execute(
                        db.select(AttemptItem.id).where(AttemptItem.attempt_id == int(a))
                    ).all()
                ]
                for a in attempt_of.values()
                if a.isdigit()
            }
        rng = random.Random(5)

        def navigate_job():
            person = rng.choice(people)
            browser, headers = browsers[person.id]
            return browser.request(
                "GET", f"/exams/attempts/{attempt_of[person.id]}?view=one&q={rng.randint(1, 40)}", None, headers
            )[0]

        n_rps, n_lat, n_status = run([navigate_job] * REQUESTS, THREADS)

        def autosave_job():
            person = rng.choice(people)
            browser, headers = browsers[person.id]
            attempt = attempt_of[person.id]
            item = rng.choice(items[attempt])
            return browser.request(
                "POST",
                f"/exams/attempts/{attempt}/answers",
                {"items": item, f"a-{item}": rng.randint(0, 1)},
                {**headers, "X-Autosave": "1"},
            )[0]

        h2_rps, h2_lat, _ = run([healthz] * REQUESTS, THREADS)
        a_rps, a_lat, a_status = run([autosave_job] * REQUESTS, THREADS)

    print(
        f"exams benchmark: {TRAINEES} trainees, {WORKERS} workers, {THREADS} threads, "
        f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}"
    )
    line("test page (one question)", n_rps, n_lat, h_rps, h_lat, n_status)
    line("autosave (target ratio >= 0.3)", a_rps, a_lat, h2_rps, h2_lat, a_status)
    print(
        f"{'synchronized start of ' + str(len(start_lat)):<34} p95 {p95(start_lat) * 1000:6.1f} ms"
        f"   steady navigation p95 {p95(n_lat) * 1000:6.1f} ms  ratio {p95(start_lat) / p95(n_lat):5.2f}"
        "  (target <= 5)"
    )
    print(
        f"{'  beside ' + str(len(health_lat)) + ' simultaneous /healthz':<34} p95 {p95(health_lat) * 1000:6.1f} ms"
        f"   ratio of p95s {p95(start_lat) / p95(health_lat):5.2f}"
    )

    from portal.exams.analysis import analyse

    matrix_rng = random.Random(9)
    ability = [matrix_rng.random() for _ in range(1000)]
    matrix = [[1 if matrix_rng.random() < 0.3 + 0.6 * a else 0 for _ in range(40)] for a in ability]
    began = time.perf_counter()
    result = analyse(matrix)
    print(
        f"item analysis of 1 000 attempts x 40 items: {(time.perf_counter() - began) * 1000:.0f} ms"
        f" (target < 1000 ms), KR-20 {result.kr20:.2f}"
    )


if __name__ == "__main__":
    main()
