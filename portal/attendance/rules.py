"""Plain rules of the roll and of self check-in (no Flask, no database)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.cohorts.schedule import join_is_open

LATE_AFTER = timedelta(minutes=10)
# Statuses whose minutes the facilitator types (present is the whole session by default,
# absent and excused are 0).
ASKS_MINUTES = {"late", "left_early"}


def is_live(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Check-in works while the join button does: from 15 minutes before the start until the
    end (the rule lives once, in portal.cohorts.schedule)."""
    return join_is_open(starts_at, ends_at, now)


@dataclass(frozen=True)
class Mark:
    status: str
    minutes: int


def self_checkin(starts_at: datetime, duration_minutes: int, now: datetime) -> Mark:
    """Present for the whole session, or late (more than 10 minutes after the start) with
    the minutes left from the check-in to the end (whole minutes missed, rounded up)."""
    if now - starts_at <= LATE_AFTER:
        return Mark("present", duration_minutes)
    missed = math.ceil((now - starts_at).total_seconds() / 60)
    return Mark("late", max(0, duration_minutes - missed))


def roll_minutes(status: str, typed: int | None, duration_minutes: int) -> tuple[int | None, str | None]:
    """The minutes to store for a status set on the roll, or a problem to show.
    present: the typed minutes or the whole session; late and left early: typed, required;
    absent and excused: 0."""
    if status in ("absent", "excused"):
        return 0, None
    if typed is None:
        if status in ASKS_MINUTES:
            return None, "Enter the minutes attended."
        return duration_minutes, None
    if not 0 <= typed <= duration_minutes:
        return None, f"Minutes must be between 0 and {duration_minutes}."
    return typed, None
