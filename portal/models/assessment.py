"""Assessment: the group oral exam checklist (templates in versions, exam sittings, each
trainee's result and its marks) and the ten competencies their supervisors confirm.

History is never deleted: a used checklist version is never edited (a change makes a new
version), a finalised result that is unlocked keeps its trail in the audit log, and every
supervisor's answer on a competency is kept in `competency_decisions`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.cohorts import CohortSession
from portal.models.people import User


class ChecklistTemplate(db.Model):
    """A named checklist; its content lives in versions (the newest is the current one)."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChecklistVersion(db.Model):
    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"), index=True)
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    template: Mapped[ChecklistTemplate] = relationship(lazy="joined")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", lazy="selectin"
    )


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        CheckConstraint("competency BETWEEN 1 AND 10", name="competency_in_programme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    position: Mapped[int]
    competency: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    met_looks_like: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")


class OralExam(db.Model):
    """One sitting of the group oral exam, in a week-6 session, against one checklist version.
    A cohort may hold more than one sitting (a later round for those who did not pass)."""

    __tablename__ = "oral_exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session: Mapped[CohortSession] = relationship(lazy="joined")
    version: Mapped[ChecklistVersion] = relationship()


class OralExamResult(db.Model):
    """A trainee's result in one sitting: the note, and once finalised the outcome (locked)."""

    __tablename__ = "oral_exam_results"
    __table_args__ = (
        UniqueConstraint("exam_id", "trainee_id"),
        CheckConstraint("outcome IN ('passed', 'not_passed')", name="outcome_known"),
        Index("ix_oral_exam_results_trainee", "trainee_id", "finalised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("oral_exams.id"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Added to a sitting that is not their own cohort's (or after it opened): by whom.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    note_version: Mapped[int] = mapped_column(default=0)
    note_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(12))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    exam: Mapped[OralExam] = relationship()


class OralExamMark(db.Model):
    """One cell of the grid. `version` counts its changes: a change names the version it was
    made on, and is refused when someone else changed the cell since."""

    __tablename__ = "oral_exam_marks"
    __table_args__ = (
        UniqueConstraint("result_id", "item_id"),
        CheckConstraint("value IN ('met', 'not_yet', 'not_observed')", name="mark_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("oral_exam_results.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"))
    value: Mapped[str] = mapped_column(String(14))
    version: Mapped[int] = mapped_column(default=1)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User | None] = relationship(lazy="joined")


class CompetencyRecord(db.Model):
    """A trainee's standing on one of the ten competencies: pending, confirmed or declined
    (the supervisor's latest answer). A trainee without a row is pending on it."""

    __tablename__ = "competency_records"
    __table_args__ = (
        UniqueConstraint("trainee_id", "competency"),
        CheckConstraint("competency BETWEEN 1 AND 10", name="competency_in_programme"),
        CheckConstraint("status IN ('pending', 'confirmed', 'declined')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    note: Mapped[str | None] = mapped_column(Text)  # evidence (confirmed) or reason (declined)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=0)


class CompetencyDecision(db.Model):
    """Every answer a supervisor gave, in order: the history behind a record."""

    __tablename__ = "competency_decisions"
    __table_args__ = (
        Index("ix_competency_decisions_trainee", "trainee_id", "competency"),
        CheckConstraint("status IN ('confirmed', 'declined')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    competency: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompetencyReminder(db.Model):
    """A reminder mailed to a supervisor: at most one per supervisor per week (the unique
    constraint holds it whatever runs the job, and however many times)."""

    __tablename__ = "competency_reminders"
    __table_args__ = (UniqueConstraint("supervisor_id", "week_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week_of: Mapped[datetime] = mapped_column(UTCDateTime)
    trainees: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeekSixNotice(db.Model):
    """The notice to a trainee's supervisor that the trainee has reached week 6: one per
    trainee, ever (the unique constraint holds it whatever runs the job, and however often).
    The supervisor's page lists them; the mail goes through the outbox in the same transaction."""

    __tablename__ = "week_six_notices"
    __table_args__ = (UniqueConstraint("trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSubscription(db.Model):
    """A supervisor's choice about the weekly reminder: no row or `unsubscribed_at` empty means
    they get it. Only the weekly reminder stops; the week-6 notice always goes."""

    __tablename__ = "reminder_subscriptions"
    __table_args__ = (UniqueConstraint("supervisor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
