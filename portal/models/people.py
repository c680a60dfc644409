"""Accounts, roles, server-side sessions, one-time links and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, case
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    SUPERVISOR = "supervisor"
    TRAINEE = "trainee"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# The dashboard a person lands on is the first of their roles in this order.
ROLE_ORDER = (Role.ADMIN, Role.FACILITATOR, Role.SUPERVISOR, Role.TRAINEE)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always lower case
    display_name: Mapped[str] = mapped_column(String(120))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    phone: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(160))
    # The person's own choice: their email and phone shown to their practice partner and
    # supervisor (and theirs to them). Nothing is shared without it.
    shares_contact: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded only when asked for: the signed-in person's role names come with their session
    # (one query, see auth.sessions.load_user, and use_role_names); lists that show roles ask
    # with selectinload.
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="UserRole.user_id"
    )

    # Set by the session loader: the id of the server-side session this request runs in.
    session_token = None  # type: str | None

    def get_id(self) -> str:  # Flask-Login keeps this in the cookie
        if not self.session_token:
            raise RuntimeError("sign in through portal.auth.sessions.start_session")
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.deactivated_at is None

    @property
    def status(self) -> str:
        if self.deactivated_at is not None:
            return "deactivated"
        if self.password_hash is None:
            return "invited"
        return "active"

    @classmethod
    def status_expression(cls):
        """status as SQL, for lists that read rows."""
        return case(
            (cls.deactivated_at.is_not(None), "deactivated"), (cls.password_hash.is_(None), "invited"), else_="active"
        )

    # The role names read with the session (load_user), until the roles change.
    _role_names = None  # type: frozenset[Role] | None

    def use_role_names(self, names: str | None) -> None:
        """Take the roles from a comma-separated list read with the user (no role rows)."""
        self._role_names = frozenset(Role(n) for n in (names or "").split(",") if n)

    @property
    def roles(self) -> set[Role]:
        if self._role_names is not None:
            return set(self._role_names)
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, role: Role | str) -> bool:
        if self._role_names is not None:
            return Role(role) in self._role_names
        return Role(role) in self.roles

    @property
    def ordered_roles(self) -> list[Role]:
        mine = self.roles
        return [r for r in ROLE_ORDER if r in mine]

    @property
    def primary_role(self) -> Role | None:
        ordered = self.ordered_roles
        return ordered[0] if ordered else None

    def set_roles(self, roles: set[Role], granted_by: User | None = None) -> None:
        keep = [r for r in self.role_rows if Role(r.role) in roles]
        have = {Role(r.role) for r in keep}
        for role in roles - have:
            keep.append(UserRole(role=role.value, granted_by_id=granted_by.id if granted_by else None))
        self.role_rows = keep
        self._role_names = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="role_rows", foreign_keys=[user_id])


class UserSession(db.Model):
    """A signed-in browser. The cookie holds only the random token; its hash is kept here,
    so signing out, deactivation and time limits take effect on the server."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """A single-use, expiring link that lets an invited person set their password."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nonce_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class PasswordReset(db.Model):
    """A single-use, short-lived link to set a new password."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who changed what, when. Rows are only ever added."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_subject", "subject_type", "subject_id"),
        Index("ix_audit_cohort_at", "cohort_id", "at"),
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The cohort the change belongs to (for the log's cohort filter), when there is one; no
    # foreign key: the log outlives what it describes.
    cohort_id: Mapped[int | None]
    # Who wrote it when no person did: "demo" for the demo seed (actor_id is then empty).
    origin: Mapped[str | None] = mapped_column(String(20))

    actor: Mapped[User | None] = relationship()
