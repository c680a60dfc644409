"""Fixtures in the style of Flask's tutorial: app, client, auth, make_user, make_cohort, world.

The factories and helpers behind them live in tests/factories.py (people, cohorts, signing in,
counting queries) and tests/world.py (the authorization matrix's world).

The database comes from DATABASE_URL when it names PostgreSQL (the tests wipe it!),
otherwise a fresh SQLite file in a temporary folder. Its schema is built by the Alembic
migrations, and every test starts with empty tables.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from portal import create_app
from portal.extensions import db, limiter
from tests.factories import (  # noqa: F401 - re-exported: other test modules import them from here
    DEFAULT_PASSWORD,
    AuthActions,
    CohortFactory,
    UserFactory,
    count_queries,
    empty_tables,
    text_of,
)
from tests.world import World


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres:")):
        return url.replace("postgresql://", "postgresql+psycopg://", 1).replace(
            "postgres://", "postgresql+psycopg://", 1
        )
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with every state-changing request,
    the way the portal's pages do. Pass csrf=False to send none, csrf="bad" for a wrong one."""

    def open(self, *args, **kwargs):
        csrf = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if method not in {"GET", "HEAD", "OPTIONS"} and csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers["X-CSRFToken"] = "not-a-token" if csrf == "bad" else self.csrf_token()
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if not raw:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 - Flask-WTF's own recipe
                sess["csrf_token"] = raw
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


def make_test_app(url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": url,
        "MAIL_BACKEND": "memory",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "http://localhost",
        "UPLOAD_FOLDER": os.path.join(tempfile.gettempdir(), "portal-test-uploads", str(os.getpid())),
        "CREDENTIAL_KEY_FOLDER": os.path.join(tempfile.gettempdir(), "portal-test-keys", str(os.getpid())),  # certification
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = CSRFClient
    return app


def reset_schema(app) -> None:
    """Drop everything, then build the schema with the migrations (as production does)."""
    from flask_migrate import upgrade

    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            else:
                for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all():
                    if not name.startswith("sqlite_"):
                        conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        upgrade()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = make_test_app(database_url(tmp_path_factory))
    reset_schema(app)
    # Rows some migrations write (the community board) would be there for the first test only:
    # every test starts from empty tables, whichever runs first.
    empty_tables(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    import shutil

    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_state(request):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        empty_tables(app)
        with app.app_context():
            limiter.reset()
        app.extensions.get("mail_outbox", []).clear()


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def hx():
    """Headers of an htmx request that swaps part of a page."""
    return {"HX-Request": "true", "HX-Current-URL": "http://localhost/dashboard"}


@pytest.fixture
def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


@pytest.fixture
def make_user(app):
    return UserFactory(app)


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)


@pytest.fixture
def queries(app):
    return lambda: count_queries(app)


@pytest.fixture
def make_cohort(app, make_user):
    """A cohort with its six sessions, created the way the portal creates them."""
    return CohortFactory(app, make_user)


@pytest.fixture
def world(app, make_user, make_cohort):
    """The authorization matrix's people and objects (tests/world.py), on empty tables built
    once per run and restored row by row; on tables that already hold rows, built afresh."""
    return World.fresh(app)
