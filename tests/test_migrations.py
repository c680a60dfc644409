"""`flask db upgrade` builds the schema from empty, and models and migrations agree."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from portal.extensions import db
from tests.conftest import make_test_app


@contextmanager
def empty_database(tmp_path):
    """A brand-new database of the kind the tests run on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"portal_migrations_{uuid.uuid4().hex[:8]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_matches_the_models(tmp_path):
    with empty_database(tmp_path) as url:
        app = make_test_app(url)
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "user_roles", "user_sessions", "audit_events"} <= tables
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            db.engine.dispose()


def test_upgrading_a_database_that_holds_data(tmp_path):
    """Migrations that rebuild a table (SQLite's batch mode) run on a database full of rows
    pointing at it: the demo programme, taken back three revisions and brought up again."""
    from sqlalchemy import text

    with empty_database(tmp_path) as url:
        app = make_test_app(url)
        with app.app_context():
            upgrade()
            result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "demo password 123"])
            assert result.exit_code == 0, result.output
            tables = ("users", "board_posts", "dm_messages", "dm_reports", "notifications", "exam_attempts")

            def counts():
                with db.engine.connect() as conn:
                    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}  # noqa: S608

            before = counts()
            assert before["dm_messages"] and before["notifications"] and before["board_posts"]
            downgrade(revision="0011")
            upgrade()
            assert counts() == before
            db.session.remove()
            db.engine.dispose()
