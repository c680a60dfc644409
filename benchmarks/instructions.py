"""Instructions per request, counted by valgrind: a measure that does not move with whatever
else the machine is doing (wall-clock ratios on a shared two-core machine drift by +-0.07).

    .venv/bin/python benchmarks/instructions.py                      # the pages below
    .venv/bin/python benchmarks/instructions.py /cohorts/1=facilitator1 /healthz
    BENCH_ROOT=/path/to/another/checkout .venv/bin/python benchmarks/instructions.py ...

The demo data (`flask seed-demo`) plus the 200-trainee cohort of benchmarks/run.py is built
once in a temporary folder; each measurement runs Flask's test client in a fresh process on its
own copy of that database (a shared file's WAL grows with every run and moved the counts by a
few per cent), signed in as the person named after "=", with PYTHONHASHSEED=0 and the garbage
collector set as app.py sets it for the server (a full collection falling inside one count and
not the other moved it by more than a code change does): 25 requests
minus 5 requests, divided by 20, so start-up and the first requests (template compiling) cancel
out. BENCH_ROOT measures another checkout's code against the same data (before and after a
change, side by side). Needs valgrind (`apt-get install valgrind`); a page takes minutes.
A measurement, not a test.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import PASSWORD, add_large_cohort, flask  # noqa: E402

PAGES = [
    "/healthz",
    "/dashboard/trainee=trainee01",
    "/cohorts/1=facilitator1",
    "/admin/users=admin",
    "/cohorts=admin",
]

# Runs inside valgrind: sign in through the real form, then GET the path `count` times.
CLIENT = r"""
import os, re, shutil, sys, tempfile
root, data, path, who, count = sys.argv[1:6]
sys.path.insert(0, root)
os.chdir(root)
folder = tempfile.mkdtemp()
shutil.copy(os.path.join(data, "bench.sqlite3"), folder)
os.environ.update(DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3", PORTAL_INSTANCE_PATH=folder,
                  SECRET_KEY="instructions-secret-key-" + "x" * 32)
from portal import create_app
client = create_app().test_client()
client.environ_base["HTTP_USER_AGENT"] = "instructions"
if who != "-":
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"csrf_token": token.group(1), "email": f"{who}@example.org",
                                         "password": os.environ["BENCH_PASSWORD"]}, follow_redirects=True)
    assert answer.status_code == 200, answer.status_code
for _ in range(3):
    assert client.get(path).status_code == 200, path
import gc
gc.freeze()  # as app.py does for the server: the collector then skips the app's own objects
gc.set_threshold(10_000, 10, 10)
for _ in range(int(count)):
    client.get(path)
shutil.rmtree(folder)
"""


def instructions(code_root: Path, data: str, path: str, who: str, count: int) -> int:
    result = subprocess.run(  # noqa: S603 - valgrind on our own interpreter and code
        [shutil.which("valgrind"), "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CLIENT, str(code_root), data, path, who, str(count)],
        env={**os.environ, "PYTHONHASHSEED": "0", "BENCH_PASSWORD": PASSWORD},
        capture_output=True, text=True, check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main():
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    code_root = Path(os.environ.get("BENCH_ROOT") or ROOT).resolve()
    pages = sys.argv[1:] or PAGES
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{data}/bench.sqlite3", "PORTAL_INSTANCE_PATH": data}
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--password", PASSWORD)
        add_large_cohort(env)
        with sqlite3.connect(f"{data}/bench.sqlite3") as connection:  # all in the file, which is copied
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"code: {code_root}")
        for page in pages:
            path, _, who = page.partition("=")
            many, few = (instructions(code_root, data, path, who or "-", n) for n in (25, 5))
            print(f"{path:<30} {who or '-':<14} {(many - few) / 20 / 1e6:7.2f} M instructions a request", flush=True)


if __name__ == "__main__":
    main()
