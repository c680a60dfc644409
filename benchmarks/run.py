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


def add_large_cohort(env) -> int:
    """A cohort of 200 trainees, paired, for facilitator1: built with the portal's own code."""
    script = (
        "import random\n"
        "from datetime import date, time\n"
        "from portal import create_app\n"
        "from portal.extensions import db\n"
        "from portal.models import Role, User, CohortStatus, utcnow\n"
        "from portal.cohorts import roster, dyads\n"
        "from portal.cohorts.manage import create_cohort\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    admin = db.session.execute(db.select(User).where(User.email == 'admin@example.org')).scalar_one()\n"
        "    fac = db.session.execute(db.select(User).where(User.email == 'facilitator1@example.org')).scalar_one()\n"
        "    c = create_cohort(name='Large', facilitators=[fac], first_day=date(2027, 1, 4), start=time(18),\n"
        "                      time_zone='America/New_York', meeting_url=None, capacity=200, notes=None,\n"
        "                      status=CohortStatus.ENROLLING, by=admin)\n"
        "    for n in range(200):\n"
        "        u = User(email=f'bulk{n}@example.org', display_name=f'Bulk {n}', organisation=f'Org {n % 9}',\n"
        "                 password_hash=admin.password_hash, activated_at=utcnow())\n"
        "        u.set_roles({Role.TRAINEE}); db.session.add(u); db.session.flush()\n"
        "        roster.add_trainee(c.id, u, admin)\n"
        "    dyads.pair_cohort(c.id, True, admin, random.Random(1))\n"
        "    db.session.commit()\n"
        "    print(c.id)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return int(result.stdout.strip().splitlines()[-1])


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
        large = add_large_cohort(env)
        print(f"database: {url.split('@')[-1]}  workers: {WORKERS}  threads: {THREADS}  requests/page: {REQUESTS}")
        with gunicorn(
            url, "benchmark-secret-key-" + "x" * 32, workers=WORKERS, extra_env={"PORTAL_INSTANCE_PATH": tmp}
        ) as base:
            anonymous = [Browser(base) for _ in range(THREADS)]
            measure(anonymous, "/login")
            measure(anonymous, "/healthz")
            facilitators = [sign_in(base, "facilitator1@example.org") for _ in range(2)]
            measure(facilitators, "/dashboard/facilitator")
            measure(facilitators, "/cohorts/1")
            measure(facilitators, f"/cohorts/{large}")
            trainees = [sign_in(base, f"trainee0{n}@example.org") for n in range(1, 3)]
            measure(trainees, "/dashboard/trainee")
            admins = [sign_in(base, "admin@example.org") for _ in range(2)]
            measure(admins, "/admin/users")


if __name__ == "__main__":
    main()
