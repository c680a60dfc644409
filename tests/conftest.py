"""Fixtures in the style of Flask's tutorial: app, client, auth, plus factories and helpers.

The database comes from DATABASE_URL when it names PostgreSQL (the tests wipe it!),
otherwise a fresh SQLite file in a temporary folder. Its schema is built by the Alembic
migrations, and every test starts with empty tables.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from html import unescape
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text

from portal import create_app
from portal.auth.passwords import hash_password
from portal.extensions import db, limiter
from portal.models import Role, User, UserSession, utcnow

DEFAULT_PASSWORD = "a calm river at dusk"  # noqa: S105 - test accounts only
_HASHES: dict[str, str] = {}


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


def empty_tables(app) -> None:
    """Every table emptied, children first (plain DELETEs: on tables this small they are far
    quicker than TRUNCATE on PostgreSQL). Tests never rely on id values."""
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = make_test_app(database_url(tmp_path_factory))
    reset_schema(app)
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


def _hash(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


@pytest.fixture
def make_user(app):
    counter = {"n": 0}

    def make(email=None, roles=(Role.TRAINEE,), password=DEFAULT_PASSWORD, name=None, status="active", **fields):
        counter["n"] += 1
        email = email or f"person{counter['n']}@example.org"
        with app.app_context():
            user = User(
                email=email.lower(),
                display_name=name or email.split("@")[0].capitalize(),
                password_hash=None if status == "invited" else _hash(password),
                activated_at=None if status == "invited" else utcnow(),
                deactivated_at=utcnow() if status == "deactivated" else None,
                **fields,
            )
            user.set_roles({Role(r) for r in roles})
            db.session.add(user)
            db.session.commit()
            return SimpleNamespace(id=user.id, email=user.email, password=password, name=user.display_name)

    return make


class AuthActions:
    def __init__(self, client, app):
        self._client = client
        self._app = app

    def login(self, email, password=DEFAULT_PASSWORD, **kwargs):
        """Sign in through the real form."""
        return self._client.post("/login", data={"email": email, "password": password}, **kwargs)

    def login_as(self, person) -> str:
        """Sign in quickly (no password hashing): a real server-side session, set in the cookie."""
        import secrets

        token = secrets.token_urlsafe(32)
        with self._app.app_context():
            db.session.add(UserSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=person.id))
            db.session.commit()
        with self._client.session_transaction() as sess:
            sess.clear()
            sess["_user_id"] = token
            sess["_fresh"] = True
            sess.permanent = True
        return token

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)


@contextmanager
def count_queries(app):
    """Collects every SQL statement sent while the block runs."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() not in {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def queries(app):
    return lambda: count_queries(app)


def text_of(response) -> str:
    """The visible text of an HTML response, whitespace folded (for `in` assertions)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def make_cohort(app, make_user):
    """A cohort with its six sessions, created the way the portal creates them."""

    def make(
        facilitators=(),
        trainees=(),
        capacity=12,
        first_day=None,
        start=None,
        zone="America/New_York",
        status="enrolling",
        name="Test Cohort",
        meeting_url="https://video.example.org/room",
        supervisor=None,
    ):
        from datetime import date, time

        from portal.cohorts import roster
        from portal.cohorts.manage import create_cohort
        from portal.models import CohortStatus

        with app.app_context():
            admin = db.session.execute(db.select(User).limit(1)).scalar_one_or_none()
            if admin is None:
                admin = db.session.get(User, make_user(roles=[Role.ADMIN]).id)
            facilitator_rows = [db.session.get(User, f.id) for f in facilitators]
            cohort = create_cohort(
                name=name,
                facilitators=facilitator_rows,
                first_day=first_day or date(2027, 3, 1),
                start=start or time(18, 0),
                time_zone=zone,
                meeting_url=meeting_url,
                capacity=capacity,
                notes=None,
                status=CohortStatus(status),
                by=admin,
            )
            enrollment_ids = []
            for t in trainees:
                user = db.session.get(User, t.id)
                enrollment_ids.append(roster.add_trainee(cohort.id, user, admin).id)
                if supervisor is not None:
                    roster.set_supervisor(user, db.session.get(User, supervisor.id), admin)
            db.session.commit()
            return SimpleNamespace(
                id=cohort.id,
                name=cohort.name,
                session_ids=[s.id for s in cohort.sessions],
                enrollment_ids=enrollment_ids,
            )

    return make


class World:
    """The people and objects of the authorization matrix. '_in' people are related to the
    objects named in URLs; '_out' people hold the same roles but are not."""

    def __init__(self, app, make_user, make_cohort):
        self.app = app
        self.people = {
            "trainee_in": make_user("trainee.in@example.org", roles=[Role.TRAINEE]),
            "trainee_out": make_user("trainee.out@example.org", roles=[Role.TRAINEE]),
            "facilitator_in": make_user("facilitator.in@example.org", roles=[Role.FACILITATOR]),
            "facilitator_out": make_user("facilitator.out@example.org", roles=[Role.FACILITATOR]),
            "supervisor_in": make_user("supervisor.in@example.org", roles=[Role.SUPERVISOR]),
            "supervisor_out": make_user("supervisor.out@example.org", roles=[Role.SUPERVISOR]),
            "admin": make_user("admin.world@example.org", roles=[Role.ADMIN]),
        }
        self.target = make_user("target@example.org", roles=[Role.TRAINEE], status="invited")
        p = self.people
        self.cohort = make_cohort(
            facilitators=[p["facilitator_in"]],
            trainees=[p["trainee_in"]],
            supervisor=p["supervisor_in"],
            name="Cohort In",
        )
        self.other = make_cohort(
            facilitators=[p["facilitator_out"]],
            trainees=[p["trainee_out"]],
            supervisor=p["supervisor_out"],
            name="Cohort Out",
        )
        self.handout_id = self._handout(self.cohort.id)
        self.values = {
            "user_id": self.target.id,
            "token": "not-a-valid-token-at-all-0000",
            "filename": "css/portal.css",
            "cohort_id": self.cohort.id,
            "session_id": self.cohort.session_ids[0],
            "enrollment_id": self.cohort.enrollment_ids[0],
            "handout_id": self.handout_id,
        }

    def _handout(self, cohort_id: int) -> int:
        from portal.cohorts import handouts
        from portal.demo import minimal_pdf
        from portal.models import Handout

        data = minimal_pdf(["A handout"])
        with self.app.app_context():
            kind = handouts.check_file("h.pdf", data)
            row = Handout(
                cohort_id=cohort_id,
                week=1,
                title="Week one notes",
                filename="Week one notes.pdf",
                stored_name=handouts.store(self.app.config["UPLOAD_FOLDER"], kind, data),
                content_type=kind.content_type,
                size_bytes=len(data),
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def url_for(self, rule) -> str:
        url = rule.rule
        for name in rule.arguments:
            value = self.values[name]
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
        return url


@pytest.fixture
def world(app, make_user, make_cohort):
    return World(app, make_user, make_cohort)
