"""Six weekly sessions at the same local time, and the checks before a session moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.cohorts.curriculum import SESSION_MINUTES, WEEKS


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """A local wall-clock time in `zone` as UTC. A time skipped by a daylight-saving jump
    (02:30 on the spring-forward night) lands an hour later (03:30), as PEP 495's fold=0
    reads it; a repeated time (autumn) is its first occurrence."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class PlannedSession:
    week: int
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int = SESSION_MINUTES


def weekly_sessions(first_day: date, start: time, zone: str) -> list[PlannedSession]:
    """Weeks 1-6, one week apart at the same local time (the UTC time moves with DST)."""
    return [
        PlannedSession(
            week=w.number,
            title=w.title,
            description=w.summary,
            starts_at=local_to_utc(first_day + timedelta(weeks=w.number - 1), start, zone),
        )
        for w in WEEKS
    ]


@dataclass(frozen=True)
class Slot:
    """A session's place in time, for the checks below."""

    id: int
    week: int
    starts_at: datetime
    ends_at: datetime
    label: str = ""


def out_of_order(moving: Slot, siblings: list[Slot]) -> list[str]:
    """Warnings when the moved session would no longer sit between its neighbours."""
    warnings = []
    for other in siblings:
        if other.id == moving.id:
            continue
        if other.week < moving.week and other.starts_at >= moving.starts_at:
            warnings.append(f"Week {moving.week} would come before week {other.week}.")
        if other.week > moving.week and other.starts_at <= moving.starts_at:
            warnings.append(f"Week {moving.week} would come after week {other.week}.")
    return warnings


def overlapping(moving: Slot, others: list[Slot]) -> list[Slot]:
    return [o for o in others if o.id != moving.id and o.starts_at < moving.ends_at and moving.starts_at < o.ends_at]


JOIN_OPENS_BEFORE = timedelta(minutes=15)


def countdown(until: datetime, now: datetime) -> str:
    """'in 2 days 3 hours', 'in 40 minutes', 'now'."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not days and not hours else rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return "in " + " ".join(parts)


def join_is_open(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    return starts_at - JOIN_OPENS_BEFORE <= now < ends_at
