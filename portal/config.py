"""All settings in one place, read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-only-not-secret"  # noqa: S105 - refused in production, see create_app


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def from_environment() -> dict:
    """Settings for this process. Every name here is documented in README.md."""
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    instance = Path(os.environ.get("PORTAL_INSTANCE_PATH", ROOT / "instance"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    production = env == "production"
    idle = timedelta(minutes=_int("SESSION_IDLE_MINUTES", 180))
    absolute = timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 24))
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A pooled PostgreSQL connection may have been closed by the server (a restart, an idle
        # timeout): ping it when it is checked out. SQLite is a file in this process; a ping
        # there would only add a statement to every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Sessions: the cookie only carries a random id; the row in user_sessions decides.
        "SESSION_IDLE_LIFETIME": idle,
        "SESSION_ABSOLUTE_LIFETIME": absolute,
        "PERMANENT_SESSION_LIFETIME": absolute,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_NAME": "portal_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        # The cookie lives as long as the absolute lifetime from sign-in; idleness is checked on
        # the server, so the cookie need not be re-signed and re-sent on every response.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # CSRF tokens live as long as the session they belong to, so a two-hour live
        # session or a timed test never loses its form to an expired token.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": production,
        # Mail: written to the log unless MAIL_SERVER is set.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Peer Support Certification <no-reply@example.org>"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "INVITATION_MAX_AGE": timedelta(days=_int("INVITATION_DAYS", 14)),
        "PASSWORD_RESET_MAX_AGE": timedelta(minutes=_int("PASSWORD_RESET_MINUTES", 60)),
        "PASSWORD_MIN_LENGTH": 12,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes"),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance / "uploads")),
        "MAX_CONTENT_LENGTH": 21 * 1024 * 1024,
        "FORCE_HTTPS": _bool("FORCE_HTTPS", False),
    }
