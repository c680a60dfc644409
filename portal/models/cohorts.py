"""Cohorts, their six sessions, rosters and waitlists, supervision, dyads, handouts and
calendar feeds.

Later areas hang off these rows: attendance and make-ups reference a CohortSession, the
written test and oral exam reference an Enrollment, dyad threads on the boards reference a
Dyad. Nothing here is deleted: people withdraw, dyads dissolve, handouts are removed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, case, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.people import User


class CohortStatus(enum.StrEnum):
    DRAFT = "draft"
    ENROLLING = "enrolling"
    RUNNING = "running"
    COMPLETED = "completed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class EnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"


class Cohort(db.Model):
    __tablename__ = "cohorts"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    # The status an admin set; the calendar moves it on (see current_status).
    status: Mapped[str] = mapped_column(String(20), default=CohortStatus.DRAFT.value)
    # First session start and last session end, kept in step with the sessions.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dyads_locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sessions: Mapped[list[CohortSession]] = relationship(
        back_populates="cohort", order_by="CohortSession.week", lazy="select"
    )
    facilitator_links: Mapped[list[CohortFacilitator]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", lazy="select"
    )

    @property
    def facilitators(self) -> list[User]:
        return sorted((link.user for link in self.facilitator_links), key=lambda u: u.display_name)

    def current_status(self, now: datetime | None = None) -> CohortStatus:
        """The calendar moves draft and enrolling cohorts to running once week 1 starts,
        and every unarchived cohort to completed once week 6 ends."""
        now = now or utcnow()
        stored = CohortStatus(self.status)
        if stored in (CohortStatus.ARCHIVED, CohortStatus.COMPLETED):
            return stored
        if now >= self.ends_at:
            return CohortStatus.COMPLETED
        if now >= self.starts_at:
            return CohortStatus.RUNNING
        return stored

    @classmethod
    def status_expression(cls, now: datetime):
        """current_status as SQL, for filtering lists."""
        return case(
            (cls.status.in_([CohortStatus.ARCHIVED.value, CohortStatus.COMPLETED.value]), cls.status),
            (cls.ends_at <= now, CohortStatus.COMPLETED.value),
            (cls.starts_at <= now, CohortStatus.RUNNING.value),
            else_=cls.status,
        )

    def sync_span(self) -> None:
        if self.sessions:
            self.starts_at = min(s.starts_at for s in self.sessions)
            self.ends_at = max(s.ends_at for s in self.sessions)


class CohortFacilitator(db.Model):
    __tablename__ = "cohort_facilitators"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    cohort: Mapped[Cohort] = relationship(back_populates="facilitator_links")
    user: Mapped[User] = relationship(lazy="joined")


class CohortSession(db.Model):
    """One live two-hour meeting: week 1 to 6 of a cohort."""

    __tablename__ = "cohort_sessions"
    __table_args__ = (
        UniqueConstraint("cohort_id", "week"),
        CheckConstraint("week BETWEEN 1 AND 6", name="week_in_programme"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    week: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    meeting_url: Mapped[str | None] = mapped_column(String(500))  # None: the cohort's room
    # iCalendar: a stable UID, and SEQUENCE bumped by every change of time or place.
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: uuid.uuid4().hex)
    sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def join_url(self) -> str | None:
        return self.meeting_url or self.cohort.meeting_url


class Enrollment(db.Model):
    """A trainee's place in a cohort: enrolled, waitlisted (in order) or withdrawn."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        Index("ix_enrollments_cohort_status", "cohort_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(300))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    cohort: Mapped[Cohort] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class Supervision(db.Model):
    """Who supervises a trainee at work. One open row per trainee; ended rows are history."""

    __tablename__ = "supervisions"
    __table_args__ = (
        Index("ix_supervisions_supervisor", "supervisor_id", "ended_at"),
        # One open supervision per trainee, kept by the database (not only by the code).
        Index(
            "uq_supervisions_open_trainee",
            "trainee_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    trainee: Mapped[User] = relationship(foreign_keys=[trainee_id])
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id], lazy="joined")


class Dyad(db.Model):
    """A practice pair (or the one triad of an odd roster). A change of partners dissolves
    the dyad and forms a new one, so a dyad's private thread is only ever read by the
    people it was written for."""

    __tablename__ = "dyads"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dissolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the pair stands in the cohort's list: the pairs formed by a swap take the places
    # of the two they replace, so the list keeps its order.
    place: Mapped[int | None]

    members: Mapped[list[DyadMember]] = relationship(back_populates="dyad", lazy="selectin")

    @property
    def current_members(self) -> list[DyadMember]:
        return [m for m in self.members if m.left_at is None]


class DyadMember(db.Model):
    __tablename__ = "dyad_members"
    __table_args__ = (UniqueConstraint("dyad_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dyad_id: Mapped[int] = mapped_column(ForeignKey("dyads.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dyad: Mapped[Dyad] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class Handout(db.Model):
    """A file or link for one week: of one cohort, or (cohort_id NULL) of every cohort."""

    __tablename__ = "handouts"
    __table_args__ = (CheckConstraint("week BETWEEN 1 AND 6", name="week_in_programme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    week: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    link_url: Mapped[str | None] = mapped_column(String(500))
    filename: Mapped[str | None] = mapped_column(String(200))  # as uploaded, for the download
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(120))
    size_bytes: Mapped[int | None]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_file(self) -> bool:
        return self.stored_name is not None


class CalendarFeed(db.Model):
    """A person's private calendar address. Regenerating replaces the token."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
