"""Notes on a person's dashboard: word that something changed for them ("Week 4 moved to
…", "You were added to Spring Cohort A"). Written in the same transaction as the change, like
the mail that says the same; kept as history (dismissing only hides them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(300))  # a path of the portal
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
