"""A real portal server process (gunicorn, several workers) on the test database, and a
tiny cookie-keeping HTTP client for it: for claims about concurrent requests."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, secret_key: str, workers: int = 4, extra_env: dict | None = None):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "PORTAL_ENV": "development",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    process = subprocess.Popen(  # noqa: S603 - our own server
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"gunicorn did not start:\n{output}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's cookies; returns (status, headers, body) without following redirects.
    Every request says the same User-Agent (USER_AGENT), as a person's browser does: the
    session's sign-in check compares it, and a load tool sending the cookie sends it too."""

    USER_AGENT = "portal-test-client"

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if data is not None else None
        headers = {"User-Agent": self.USER_AGENT, **(headers or {})}
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict):
        return self.request("POST", path, data)

    def form_token(self, path: str) -> str:
        status, _, html = self.get(path)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert match, f"no form token on {path} ({status})"
        return match.group(1)


def signed_in_headers(app, user_id: int) -> dict[str, str]:
    """Headers of a Browser signed in as `user_id` that has already loaded a page: its session
    cookie (naming a new row of user_sessions, added to the caller's database session and
    committed by the caller), the CSRF header htmx sends, and the Browser's User-Agent.

    Such a cookie holds what the portal's own responses settle it to (Flask-Login's
    identifier of this client, the CSRF secret), so the server has nothing to re-sign: a
    cookie without them would be re-signed and sent back on every request, a cost no real
    browser pays after its first page."""
    import hashlib
    import secrets

    from flask_login.utils import _create_identifier
    from itsdangerous import URLSafeTimedSerializer

    from portal.extensions import db
    from portal.models import UserSession

    token, raw = secrets.token_urlsafe(32), secrets.token_hex(20)
    db.session.add(UserSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id))
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": Browser.USER_AGENT}
    ):
        identifier = _create_identifier()
    value = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": token, "_fresh": True, "_id": identifier, "_permanent": True, "csrf_token": raw}
    )
    return {
        "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={value}",
        "X-CSRFToken": URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw),
        "User-Agent": Browser.USER_AGENT,
    }
