"""Background work's own tables: the mail outbox and the record of periodic runs.

A mail is a row here, written in the same transaction as the change that caused it, so a
crash or an SMTP outage loses nothing; `portal.mail.deliver_due` sends it later. The two
columns `claimed_by` / `claimed_until` are a lease: a consumer takes rows by an atomic UPDATE
that only matches unclaimed (or expired) rows, so two consumers never send the same mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(100))  # which template wrote it, for `jobs status`
    # Extra mail headers (name -> value), e.g. List-Unsubscribe; none for most mail.
    headers: Mapped[dict | None] = mapped_column(JSON)
    # pending → sent, or pending → failed after MAIL_MAX_ATTEMPTS unsuccessful attempts.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # Not before this moment: now when written, pushed back exponentially after each failure.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease of the consumer delivering it right now; once sent, claimed_by names who sent it.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        # The delivery query: pending rows that are due, oldest first.
        Index("ix_outbox_mail_due", "status", "next_attempt_at"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} {self.status} to {self.to_address}>"


class PeriodicRun(db.Model):
    """One row per periodic task and tick (its scheduled minute). Several consumers may each
    enqueue the same tick; the unique constraint lets exactly one of them insert the row and
    so do the work (see `portal.jobs.once_per_tick`)."""

    __tablename__ = "periodic_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    tick: Mapped[datetime] = mapped_column(UTCDateTime)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("task", "tick"),)
