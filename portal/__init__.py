"""The portal's application factory."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, request
from jinja2 import StrictUndefined
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import config as portal_config
from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate, talisman
from portal.inputs import MAX_ID

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


# Each area is a package whose __init__ defines its blueprint `bp` and imports its routes.
AREAS = (
    "main", "auth", "account", "dashboards", "admin", "cohorts", "calendar",
    "attendance", "exams", "assessment", "boards",
    "certification",
    "notifications", "search", "directory", "messages",  # notify (issue 13)
)


class ConfigurationError(RuntimeError):
    pass


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route: at most 2**31 - 1, so an id out of the database's range is
    a plain 404, never a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    root = Path(__file__).resolve().parent.parent
    load_dotenv(root / ".env", override=False)
    settings = portal_config.from_environment()
    if test_config:
        settings.update(test_config)

    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH", str(root / "instance")),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _check_production(app)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite="Lax",
    )

    from portal import jobs, models  # noqa: F401  (models registers every table)

    jobs.init_app(app)  # huey (immediate in tests); deliver mail after the commit that wrote it
    from portal.auth.sessions import load_user

    login_manager.user_loader(load_user)
    login_manager.session_protection = "basic"

    from portal import errors, templating

    # Ids in URLs fit the database's integer columns; a larger one names nothing (404).
    app.url_map.converters["int"] = DatabaseIdConverter
    for area in AREAS:
        app.register_blueprint(importlib.import_module(f"portal.{area}").bp)

    from portal.web import refuse_control_characters

    app.before_request(refuse_control_characters)
    errors.register(app)
    templating.register(app)
    if app.config.get("TESTING"):
        app.jinja_env.undefined = StrictUndefined

    from portal.cli import register as register_cli

    register_cli(app)
    return app


def _check_production(app: Flask) -> None:
    if app.config["PORTAL_ENV"] != "production":
        return
    secret = app.config.get("SECRET_KEY") or ""
    if secret == portal_config.DEFAULT_SECRET or len(secret) < 32:
        raise ConfigurationError(
            "SECRET_KEY must be set to a long random value in production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if not app.config.get("REDIS_URL"):
        raise ConfigurationError(
            "REDIS_URL must be set in production: sign-in limits and background jobs are shared "
            "by every worker through Redis (for example REDIS_URL=redis://127.0.0.1:6379/0)."
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL, a busy timeout, foreign keys, and transactions we begin ourselves."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    dbapi_connection.isolation_level = None  # let the "begin" hook below decide


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """A request that changes data takes SQLite's write lock at its start (BEGIN IMMEDIATE),
    so two writers queue instead of failing half-way; reads begin deferred."""
    if conn.dialect.name != "sqlite":
        return
    from flask import has_request_context

    writing = has_request_context() and request.method not in {"GET", "HEAD", "OPTIONS"}
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
