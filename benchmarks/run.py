"""Latency and throughput of key pages against a real gunicorn server.

    make bench                       # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench

A measurement, not a test: it prints numbers and never fails on them. Requests are bounded
(BENCH_REQUESTS per page, BENCH_THREADS at once) and go to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Browser, gunicorn  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
PASSWORD = "benchmark demo password"  # noqa: S105


def flask(env, *args):
    subprocess.run(  # noqa: S603 - our own interpreter and app
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def sign_in(base, email):
    browser = Browser(base)
    token = browser.form_token("/login")
    status, _, _ = browser.post("/login", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 303, f"sign-in as {email} failed: {status}"
    return browser


def measure(browsers, path):
    timings: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = REQUESTS // THREADS

    def run(browser):
        nonlocal errors
        for _ in range(per_thread):
            t0 = time.perf_counter()
            status, _, _ = browser.get(path)
            elapsed = time.perf_counter() - t0
            with lock:
                timings.append(elapsed)
                errors += status >= 400

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(browsers[i % len(browsers)],)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    timings.sort()
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))] * 1000  # noqa: E731
    print(
        f"{path:<28} n={len(timings):>4}  p50={p(0.5):7.1f} ms  p95={p(0.95):7.1f} ms  "
        f"max={timings[-1] * 1000:7.1f} ms  {len(timings) / wall:7.1f} req/s  errors={errors}"
    )


def main():
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        env = {**os.environ, "DATABASE_URL": url, "PORTAL_INSTANCE_PATH": tmp}
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--password", PASSWORD)
        print(f"database: {url.split('@')[-1]}  workers: {WORKERS}  threads: {THREADS}  requests/page: {REQUESTS}")
        with gunicorn(
            url, "benchmark-secret-key-" + "x" * 32, workers=WORKERS, extra_env={"PORTAL_INSTANCE_PATH": tmp}
        ) as base:
            anonymous = [Browser(base) for _ in range(THREADS)]
            measure(anonymous, "/login")
            measure(anonymous, "/healthz")
            facilitators = [sign_in(base, "facilitator1@example.org") for _ in range(2)]
            measure(facilitators, "/dashboard/facilitator")
            trainees = [sign_in(base, f"trainee0{n}@example.org") for n in range(1, 3)]
            measure(trainees, "/dashboard/trainee")
            admins = [sign_in(base, "admin@example.org") for _ in range(2)]
            measure(admins, "/admin/users")


if __name__ == "__main__":
    main()
