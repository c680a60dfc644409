"""With REDIS_URL set, sign-in limits are shared by every worker process."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import make_test_app


def _redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as error:  # noqa: BLE001
        if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Redis is required here: {error}")
        pytest.skip(f"Redis not reachable at {url}: {error}")
    return url


def test_two_workers_share_the_per_account_limit(app, make_user):
    url = _redis_url()
    person = make_user()
    prefix = f"test-{uuid.uuid4().hex}"
    db_url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [
        make_test_app(db_url, RATELIMIT_STORAGE_URI=url, RATELIMIT_KEY_PREFIX=prefix, REDIS_URL=url) for _ in range(2)
    ]
    clients = [w.test_client() for w in workers]
    for n in range(5):
        response = clients[n % 2].post("/login", data={"email": person.email, "password": f"wrong guess {n}"})
        assert response.status_code == 422
    assert clients[0].post("/login", data={"email": person.email, "password": "wrong again"}).status_code == 429
    assert clients[1].post("/login", data={"email": person.email, "password": "wrong again"}).status_code == 429


def test_redis_url_selects_redis_storage(monkeypatch):
    from portal.config import from_environment

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert from_environment()["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    monkeypatch.delenv("REDIS_URL")
    assert from_environment()["RATELIMIT_STORAGE_URI"] == "memory://"
