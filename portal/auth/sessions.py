"""Server-side sessions: the cookie only names a row of user_sessions.

Signing out ends the row, so a copied old cookie no longer works; deactivating an account
ends all of its rows; idle and absolute lifetimes are checked on every request.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import String, bindparam, func, select, update

from portal.extensions import db
from portal.models import Enrollment, EnrollmentStatus, User, UserRole, UserSession, utcnow

TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> None:
    """Sign `user` in with a brand-new session (a fresh cookie, a fresh CSRF secret)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    user.last_login_at = now
    db.session.commit()
    session.clear()
    session.permanent = True
    user.session_token = token
    login_user(user)


def end_current_session(current: User | None) -> None:
    if current is not None and current.session_token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(current.session_token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason="signed out")
        )
        db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User, reason: str, *, except_token: str | None = None) -> None:
    """End every open session of `user` (not committed: part of the caller's change)."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    if except_token:
        stmt = stmt.where(UserSession.token_hash != _hash(except_token))
    db.session.execute(stmt)


@functools.cache
def _session_query():
    """Built once: the session row's times, its user, the user's role names and whether they
    hold a place in a cohort, by the token's hash (parameter `h`): one statement, and only the
    user is an ORM object."""
    enrolled = (
        select(Enrollment.id)
        .where(Enrollment.user_id == User.id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
        .exists()
    )
    return (
        select(
            UserSession.id,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.ended_at,
            User,
            func.aggregate_strings(UserRole.role, ",").label("roles"),
            enrolled.label("enrolled"),
        )
        .join(User, User.id == UserSession.user_id)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(UserSession.token_hash == bindparam("h", type_=String))
        .group_by(UserSession.id, User.id)
    )


def load_user(token: str) -> User | None:
    """Flask-Login's user_loader: the user of a live session, or None.

    One SELECT on every signed-in request: the session row joined to its user and the
    names of the user's roles (which every page's navigation needs)."""
    row = db.session.execute(_session_query(), {"h": _hash(token)}).first()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    config = current_app.config
    expired = None
    if now - row.created_at > config["SESSION_ABSOLUTE_LIFETIME"]:
        expired = "absolute lifetime"
    elif now - row.last_seen_at > config["SESSION_IDLE_LIFETIME"]:
        expired = "idle"
    user = row.User
    if user.deactivated_at is not None:
        expired = expired or "deactivated"
    if expired:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id).values(ended_at=now, ended_reason=expired)
        )
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        db.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    user.use_role_names(row.roles)
    user.session_token = token
    # What portal.authz asks of every trainee's page (reading the community board, the
    # navigation's count), answered by this same statement for this request.
    g.setdefault("_enrolled_anywhere", {})[user.id] = bool(row.enrolled)
    return user
