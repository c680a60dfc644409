"""Live attendance: the roll, self check-in windows, make-ups, feedback and the coverage setting.

One attendance row per person and session (a unique constraint: two check-ins at the same
moment can never make two rows). A make-up is a request to attend the same week in another
cohort; once accepted, the person's row on that cohort's session covers the week of their own
cohort. Feedback is stored in two tables on purpose: `feedback_requests` knows who was asked
and whether they answered (for "at most once"), `feedback_answers` holds what was said with
no person and no time in it, so no one can join an answer to its author.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.cohorts import CohortSession
from portal.models.people import User


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    LEFT_EARLY = "left_early"
    ABSENT = "absent"
    EXCUSED = "excused"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class AttendanceSource(enum.StrEnum):
    SELF = "self"  # the trainee checked in with the code
    ROLL = "roll"  # a facilitator or admin marked it (always wins over a later self check-in)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        CheckConstraint(
            "status IN ('present', 'late', 'left_early', 'absent', 'excused')", name="status_known"
        ),
        # The roll's version (count and latest change) is read from this index alone.
        Index("ix_attendance_session_updated", "session_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    minutes: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(8))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[CohortSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CheckinWindow(db.Model):
    """Self check-in for one session: its secret (the codes derive from it and the time), and
    whether a facilitator has it open. One row per session, reopened in place."""

    __tablename__ = "checkin_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


class CheckinFailure(db.Model):
    """A wrong code typed by a trainee: counted to limit guessing (per person, not per address)."""

    __tablename__ = "checkin_failures"
    __table_args__ = (Index("ix_checkin_failures_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MakeupStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class MakeupRequest(db.Model):
    """A trainee asks to attend `host_session` (same week, another cohort) instead of
    `own_session` (their own cohort's). Never adds them to the other cohort's roster."""

    __tablename__ = "makeup_requests"
    __table_args__ = (
        UniqueConstraint("user_id", "host_session_id"),
        Index("ix_makeup_requests_host", "host_session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    own_session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"))
    host_session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"))
    status: Mapped[str] = mapped_column(String(10), default=MakeupStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    own_session: Mapped[CohortSession] = relationship(foreign_keys=[own_session_id])
    host_session: Mapped[CohortSession] = relationship(foreign_keys=[host_session_id])


class FeedbackRequest(db.Model):
    """Who was asked for feedback on a session, whether the mail went, and whether they
    answered (a flag, no time: nothing to line up with an answer)."""

    __tablename__ = "feedback_requests"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered: Mapped[bool] = mapped_column(default=False)


class FeedbackAnswer(db.Model):
    """What one person said about one session: no person, no timestamp."""

    __tablename__ = "feedback_answers"
    __table_args__ = (CheckConstraint("usefulness BETWEEN 1 AND 5", name="usefulness_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"), index=True)
    usefulness: Mapped[int]
    helped: Mapped[str | None] = mapped_column(Text)
    suggestion: Mapped[str | None] = mapped_column(Text)


class AttendanceSettings(db.Model):
    """What counts as a covered week (one row, id 1; the defaults when absent)."""

    __tablename__ = "attendance_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    min_minutes: Mapped[int] = mapped_column(default=90)
    # Comma-separated statuses that count as attended (excused never does).
    counted_statuses: Mapped[str] = mapped_column(String(60), default="present,late,left_early")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
