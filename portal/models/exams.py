"""The written test: the item bank (items and their versions), offerings (a cohort's test
window now, a self-paced enrolment later), attempts and the items each attempt drew.

An attempt belongs to a person and an offering, never to a cohort as such. An attempt keeps
the exact version of every item it showed (AttemptItem.item_version_id), and the order of the
options it showed. Nothing is deleted: items are retired, attempts stay.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class ItemStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class Item(db.Model):
    """One question of the bank. What it asks lives in its versions; `current_version_id`
    names the one new attempts draw."""

    __tablename__ = "exam_items"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
        CheckConstraint("week BETWEEN 1 AND 6", name="week_range"),
        CheckConstraint("competency BETWEEN 1 AND 10", name="competency_range"),
        Index("ix_exam_items_status_week", "status", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str | None] = mapped_column(String(100), unique=True)  # GIFT [id:...]
    title: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10), default=ItemStatus.DRAFT.value)
    # The current version's week and competency, kept here for drawing and filtering.
    week: Mapped[int]
    competency: Mapped[int]
    # Not a foreign key (the two tables would reference each other); set by bank.py only,
    # always to one of this item's versions.
    current_version_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    current: Mapped[ItemVersion | None] = relationship(
        primaryjoin="foreign(Item.current_version_id) == ItemVersion.id", viewonly=True
    )


class ItemVersion(db.Model):
    """What an item asked at one time. Never changed once an attempt has shown it."""

    __tablename__ = "exam_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("exam_items.id"), index=True)
    number: Mapped[int]
    stem: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10), default="markdown")  # markdown or html
    # [{"text": ..., "correct": bool, "feedback": ...}, ...] in the order the author wrote them.
    options: Mapped[list] = mapped_column(JSON)
    rationale: Mapped[str | None] = mapped_column(Text)
    week: Mapped[int]
    competency: Mapped[int]
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship(foreign_keys=[item_id])

    @property
    def correct_index(self) -> int:
        return next(i for i, o in enumerate(self.options) if o.get("correct"))


class Offering(db.Model):
    """A chance to take the test: a cohort's window now (kind "cohort"); a self-paced
    enrolment later (kind "self_paced", cohort_id empty)."""

    __tablename__ = "exam_offerings"
    __table_args__ = (
        CheckConstraint("attempts_allowed >= 1", name="attempts_positive"),
        CheckConstraint("closes_at > opens_at", name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="cohort")
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="Written test")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_minutes: Mapped[int | None] = mapped_column(default=60)
    attempts_allowed: Mapped[int] = mapped_column(default=2)
    wait_hours: Mapped[int] = mapped_column(default=24)
    # Items per week 1..6, and the competencies each attempt must cover at least once.
    blueprint: Mapped[list] = mapped_column(JSON)
    required_competencies: Mapped[list] = mapped_column(JSON, default=list)
    review_at_once: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_percent: Mapped[int] = mapped_column(default=80)
    closed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    cohort = relationship("Cohort")

    @property
    def item_count(self) -> int:
        return sum(self.blueprint)

    def is_open(self, now: datetime) -> bool:
        end = min(self.closes_at, self.closed_early_at) if self.closed_early_at else self.closes_at
        return self.opens_at <= now < end


class ExtraTime(db.Model):
    """An accommodation: extra minutes for one named trainee in one offering."""

    __tablename__ = "exam_extra_time"
    __table_args__ = (
        UniqueConstraint("offering_id", "user_id"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("exam_offerings.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttemptGrant(db.Model):
    """One extra attempt granted by a facilitator (also in the audit log)."""

    __tablename__ = "exam_attempt_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("exam_offerings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttemptStatus(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"


class Attempt(db.Model):
    __tablename__ = "exam_attempts"
    __table_args__ = (
        UniqueConstraint("offering_id", "user_id", "number"),
        CheckConstraint("status IN ('open', 'submitted')", name="status_known"),
        # One open attempt per person, whatever the offering.
        Index(
            "uq_exam_attempts_one_open",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_exam_attempts_open_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("exam_offerings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default=AttemptStatus.OPEN.value)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)  # fixed at the start
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(20))  # trainee, deadline
    item_count: Mapped[int]
    correct: Mapped[int | None]
    passed: Mapped[bool | None]
    one_at_a_time: Mapped[bool] = mapped_column(Boolean, default=False)

    offering: Mapped[Offering] = relationship()
    user = relationship("User")

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.OPEN.value

    @property
    def percent(self) -> float | None:
        return None if self.correct is None else 100.0 * self.correct / self.item_count


class AttemptItem(db.Model):
    """One item of one attempt: the exact version shown, the order its options were shown in
    (indices into the version's options), and the answer (an index into the version's options)."""

    __tablename__ = "exam_attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "item_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id"))
    position: Mapped[int]
    item_version_id: Mapped[int] = mapped_column(ForeignKey("exam_item_versions.id"), index=True)
    option_order: Mapped[list] = mapped_column(JSON)
    chosen: Mapped[int | None]
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    correct: Mapped[bool | None]

    version: Mapped[ItemVersion] = relationship()
