"""Test factories and helpers: people, cohorts, signing in, counting queries, emptying tables.

Plain functions and classes (no pytest here): tests/conftest.py wraps them in fixtures, and
tests/world.py builds the authorization matrix's world with them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from contextlib import contextmanager
from datetime import date, time
from html import unescape
from types import SimpleNamespace

from sqlalchemy import event

from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Role, User, UserSession, utcnow

DEFAULT_PASSWORD = "a calm river at dusk"  # noqa: S105 - test accounts only
_HASHES: dict[str, str] = {}


def password_hash(password: str) -> str:
    """scrypt is slow on purpose: each test password is hashed once per run."""
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def empty_tables(app) -> None:
    """Every table emptied, children first (plain DELETEs: on tables this small they are far
    quicker than TRUNCATE on PostgreSQL). Tests never rely on id values."""
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()


class UserFactory:
    """make_user(email=None, roles=(trainee,), password=..., name=None, status="active", **fields):
    an account as the portal stores it; returns a SimpleNamespace(id, email, password, name).
    status is "active", "invited" (no password yet) or "deactivated"."""

    def __init__(self, app):
        self.app = app
        self.n = 0

    def __call__(
        self, email=None, roles=(Role.TRAINEE,), password=DEFAULT_PASSWORD, name=None, status="active", **fields
    ):
        self.n += 1
        email = email or f"person{self.n}@example.org"
        with self.app.app_context():
            user = User(
                email=email.lower(),
                display_name=name or email.split("@")[0].capitalize(),
                password_hash=None if status == "invited" else password_hash(password),
                activated_at=None if status == "invited" else utcnow(),
                deactivated_at=utcnow() if status == "deactivated" else None,
                **fields,
            )
            user.set_roles({Role(r) for r in roles})
            db.session.add(user)
            db.session.commit()
            return SimpleNamespace(id=user.id, email=user.email, password=password, name=user.display_name)


class CohortFactory:
    """make_cohort(facilitators=(), trainees=(), ...): a cohort with its six sessions, created the
    way the portal creates them; trainees are added in order (beyond capacity: waitlisted)."""

    def __init__(self, app, make_user):
        self.app = app
        self.make_user = make_user

    def __call__(
        self,
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
        from portal.cohorts import roster
        from portal.cohorts.manage import create_cohort
        from portal.models import CohortStatus

        app = self.app
        with app.app_context():
            admin = db.session.execute(db.select(User).limit(1)).scalar_one_or_none()
            if admin is None:
                admin = db.session.get(User, self.make_user(roles=[Role.ADMIN]).id)
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


class AuthActions:
    def __init__(self, client, app):
        self._client = client
        self._app = app

    def login(self, email, password=DEFAULT_PASSWORD, **kwargs):
        """Sign in through the real form."""
        return self._client.post("/login", data={"email": email, "password": password}, **kwargs)

    def login_as(self, person) -> str:
        """Sign in quickly (no password hashing): a real server-side session, set in the cookie."""
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


def text_of(response) -> str:
    """The visible text of an HTML response, whitespace folded (for `in` assertions)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
