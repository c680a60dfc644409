"""Throughput and latency of key pages beside a trivial route, against a real gunicorn server.

    make bench                       # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench

One gunicorn server (BENCH_WORKERS workers, 2 by default) on the demo data (`flask seed-demo`)
plus a cohort of 200 paired trainees. Each page is measured in turn and printed beside the
trivial route (/healthz), measured on the same server just before it, with the ratio of their
throughputs: a page at 0.25 serves a quarter of the requests per second the server manages
when it does (almost) nothing. The BENCH_SECONDS of a page are split into BENCH_ROUNDS turns
(3), each beside its own /healthz turn; the ratio is the median turn's. BENCH_ONLY=/cohorts
measures only the pages whose label (path, "(htmx)" for fragments) contains it.

The load comes from `wrk` when it is installed (Debian: `apt-get install wrk`), for
BENCH_SECONDS per page over BENCH_CONNECTIONS connections; without it (or with
BENCH_TOOL=python) from a small Python client: BENCH_REQUESTS per page over BENCH_THREADS
threads. Either way the load is bounded and goes to 127.0.0.1 only. Signed-in pages sign in
once through the real form and send that session cookie.

A measurement, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Browser, gunicorn  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
# Each page is measured in ROUNDS turns, each beside its own /healthz turn: the ratio printed is
# the median of the turns' ratios (a machine whose speed drifts moves both sides of a turn).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "")  # measure only the pages whose label contains this
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
TOOL = os.environ.get("BENCH_TOOL") or ("wrk" if shutil.which("wrk") else "python")
PASSWORD = "benchmark demo password"  # noqa: S105
HTMX = {"HX-Request": "true"}

# wrk prints what the table needs in one line we can parse (its own summary has no p95).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


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


def demo_cohort_id(env) -> int:
    script = (
        "from portal import create_app\n"
        "from portal.extensions import db\n"
        "from portal.models import Cohort\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    print(db.session.execute(db.select(Cohort.id).where(Cohort.name == 'Spring Cohort A')).scalar_one())\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def sign_in(base, email) -> Browser:
    browser = Browser(base)
    token = browser.form_token("/login")
    status, headers, _ = browser.post("/login", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 303, f"sign-in as {email} failed: {status}"
    # The page the sign-in leads to settles the cookie (it gains the CSRF secret), as in a
    # browser: measuring with the cookie of the 303 would re-sign it on every request.
    location = headers["Location"]
    for _ in range(5):  # "/" sends each person on to their dashboard
        status, headers, _ = browser.get(location)
        if status not in (301, 302, 303) or not headers.get("Location"):
            break
        location = headers["Location"]
    return browser


def cookie_header(browser: Browser) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.jar)


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(base: str, path: str, headers: dict[str, str], script: str, seconds: int = SECONDS) -> Result:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", script]
    # The browser's own User-Agent with its cookie, as a person's browser sends them (Flask-Login
    # compares it with the one at sign-in; another would re-sign the cookie on every request).
    # One connection per request, as a reverse proxy in front of gunicorn (nginx's default
    # upstream) sends them. Kept alive, wrk's few connections land unevenly on the workers (all
    # on one, or shared) and the same route measured twice differed by 2.5x from run to run.
    headers = {"User-Agent": Browser.USER_AGENT, "Connection": "close", **headers}
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base + path)
    output = subprocess.run(  # noqa: S603 - wrk against our own server on 127.0.0.1
        command, check=True, capture_output=True, text=True, timeout=seconds + 30
    ).stdout
    match = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output, re.M)
    assert match, f"unexpected wrk output:\n{output}"
    n, duration_us, p50, p95, status_errors, socket_errors = map(int, match.groups())
    return Result(n, duration_us / 1e6, p50 / 1000, p95 / 1000, status_errors + socket_errors)


def run_python(base: str, path: str, headers: dict[str, str]) -> Result:
    timings: list[float] = []
    errors = 0
    lock = threading.Lock()

    def run():
        nonlocal errors
        client = Browser(base)  # headers carry the cookie; the client's own jar stays empty
        for _ in range(max(1, REQUESTS // THREADS)):
            t0 = time.perf_counter()
            status, _, _ = client.request("GET", path, headers=headers)
            elapsed = time.perf_counter() - t0
            with lock:
                timings.append(elapsed)
                errors += status >= 400

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    timings.sort()
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))] * 1000  # noqa: E731
    return Result(len(timings), wall, p(0.5), p(0.95), errors)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        env = {**os.environ, "DATABASE_URL": url, "PORTAL_INSTANCE_PATH": tmp}
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--password", PASSWORD)
        large = add_large_cohort(env)
        demo = demo_cohort_id(env)
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_REPORT)
        load = (
            f"wrk, {SECONDS} s per page, {CONNECTIONS} connections"
            if TOOL == "wrk"
            else f"python client, {REQUESTS} requests per page, {THREADS} threads"
        )
        print(f"database: {url.split('@')[-1]}  gunicorn workers: {WORKERS}  load: {load}")
        with gunicorn(
            url, "benchmark-secret-key-" + "x" * 32, workers=WORKERS, extra_env={"PORTAL_INSTANCE_PATH": tmp}
        ) as base:
            people = {
                role: cookie_header(sign_in(base, f"{who}@example.org"))
                for role, who in [
                    ("admin", "admin"),
                    ("facilitator", "facilitator1"),
                    ("supervisor", "supervisor1"),
                    ("trainee", "trainee01"),
                ]
            }
            pages = [
                ("/healthz", None, {}),
                ("/login", None, {}),
                ("/dashboard/admin", "admin", {}),
                ("/dashboard/facilitator", "facilitator", {}),
                ("/dashboard/supervisor", "supervisor", {}),
                ("/dashboard/trainee", "trainee", {}),
                ("/admin/users", "admin", {}),
                ("/cohorts", "admin", {}),
                (f"/cohorts/{demo}", "facilitator", {}),
                (f"/cohorts/{large}", "facilitator", {}),
                ("/calendar", "facilitator", {}),
                (f"/cohorts/{demo}?part=dyads", "facilitator", HTMX),
                ("/dashboard/trainee", "trainee", HTMX),
            ]
            # Every page once first: it must answer 200 to the person (not a redirect to the
            # sign-in page), and each worker compiles its templates before the clock runs.
            checker = Browser(base)
            for path, who, extra in pages:
                headers = {**extra, **({"Cookie": people[who]} if who else {})}
                for _ in range(2 * WORKERS):
                    status, _, _ = checker.request("GET", path, headers=headers)
                    assert status == 200, f"{path} as {who or 'anonymous'}: {status}"

            print(
                f"{'page':<34} {'as':<12} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}"
                f"   {'/healthz req/s':>14} {'p95 ms':>8}   ratio"
            )

            def run(path, headers, seconds):
                if TOOL == "wrk":
                    return run_wrk(base, path, headers, str(script), seconds)
                return run_python(base, path, headers)

            turn = max(1, round(SECONDS / ROUNDS))
            for path, who, extra in pages[1:]:
                label = path + (" (htmx)" if extra else "")
                if ONLY and ONLY not in label:
                    continue
                # The trivial route is measured again right before each turn of the page, so a
                # machine whose load drifts during the run (other processes) skews no ratio.
                turns = []
                for _ in range(ROUNDS):
                    healthz = run("/healthz", {}, turn)
                    result = run(path, {**extra, **({"Cookie": people[who]} if who else {})}, turn)
                    turns.append((healthz, result))
                ratios = sorted(r.rate / h.rate if h.rate else 0.0 for h, r in turns)
                ratio = ratios[len(ratios) // 2]
                healthz, result = combine([h for h, _ in turns]), combine([r for _, r in turns])
                print(
                    f"{label:<34} {who or '-':<12} {result.rate:8.1f} {result.p50_ms:8.1f} {result.p95_ms:8.1f} "
                    f"{result.errors:6d}   {healthz.rate:14.1f} {healthz.p95_ms:8.1f}   {ratio:5.2f}x"
                    + (f"  (turns {min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""),
                    flush=True,
                )


def combine(results: list[Result]) -> Result:
    """Several turns of one path as one: all requests over all time; the median turn's
    percentiles (wrk reports percentiles per run)."""
    middle = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    return Result(
        sum(r.requests for r in results),
        sum(r.seconds for r in results),
        middle([r.p50_ms for r in results]),
        middle([r.p95_ms for r in results]),
        sum(r.errors for r in results),
    )


if __name__ == "__main__":
    main()
